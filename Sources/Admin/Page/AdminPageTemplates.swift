import Mustache

/// The settings page's Mustache templates, compiled once.
///
/// They are Swift string literals rather than package resources: the `docsend-sync` binary is deployed alone (a
/// static-stdlib image, `deploy/`), and a resource bundle would be one more file to ship next to it and find at run
/// time (`Bundle.module` looks in fixed places); a literal is compiled in and checked by the tests that render it.
///
/// Every `{{value}}` is HTML-escaped (quotes included); no template uses `{{{…}}}`. Accessibility: `lang`, a skip link,
/// one `h1` and headings in order, a `<label>` for every control, help and errors tied to their control with
/// `aria-describedby` (`aria-invalid` on errors), an error summary linking to the fields, a visible focus ring, and
/// native controls only (the page needs no JavaScript).
enum AdminPageTemplates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in [
            ("head", head), ("foot", foot), ("toggle", toggle), ("choice", choice), ("settings", settings), ("message", message),
        ] {
            // The templates are constants the tests render: a syntax error fails every page test at once.
            do { try library.register(text, named: name) } catch { preconditionFailure("template \(name): \(error)") }
        }
        return library
    }()

    static let head = #"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="same-origin">
        <title>{{title}} · DocSend for Salesforce</title>
        <style>
        :root { color-scheme: light; --ink: #1d2330; --muted: #4b5563; --line: #c9ced6; --accent: #0b57d0; --bad: #b3261e; --good: #17663a; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: #f6f7f9; }
        header.site { background: #10243e; color: #fff; padding: .75rem 1.5rem; }
        header.site p { margin: 0; font-weight: 600; }
        main { max-width: 60rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
        main:focus { outline: none; }
        section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .5rem 1.25rem 1.25rem; margin: 1.25rem 0; }
        h1 { font-size: 1.75rem; margin: 1rem 0 .25rem; }
        h2 { font-size: 1.3rem; margin: .75rem 0 .5rem; }
        h3 { font-size: 1.05rem; margin: 1rem 0 .25rem; }
        a { color: var(--accent); }
        .skip { position: absolute; left: -999px; top: .5rem; background: #fff; color: var(--accent); padding: .5rem 1rem; z-index: 10; }
        .skip:focus { left: .5rem; }
        :focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; box-shadow: 0 0 0 5px #10243e; }
        .help, .muted { color: var(--muted); font-size: .95rem; margin: .15rem 0 .5rem; }
        .tip { border-left: 4px solid var(--accent); background: #eef3fd; padding: .5rem .75rem; margin: .5rem 0; }
        .notice { border-left: 4px solid var(--good); background: #e9f6ee; padding: .5rem .75rem; }
        .problem { border: 2px solid var(--bad); background: #fdf0ef; padding: .5rem 1rem; border-radius: 6px; }
        .problem h2 { color: var(--bad); }
        .error { color: var(--bad); font-weight: 600; margin: .15rem 0; }
        .field { margin: .75rem 0; }
        .check { display: grid; grid-template-columns: 1.5rem 1fr; gap: 0 .5rem; margin: .75rem 0; }
        .check input { width: 1.15rem; height: 1.15rem; margin-top: .2rem; }
        .check .help, .check .error { grid-column: 2; }
        fieldset { border: 1px solid var(--line); border-radius: 6px; margin: .75rem 0; padding: .25rem 1rem .75rem; }
        legend { font-weight: 600; padding: 0 .25rem; }
        label { font-weight: 600; }
        select, input[type=text], input[type=search], input[type=url] { font: inherit; padding: .35rem .5rem; border: 1px solid #6b7280; border-radius: 4px; min-width: 18rem; max-width: 100%; }
        [aria-invalid=true] { border: 2px solid var(--bad); }
        button { font: inherit; font-weight: 600; padding: .45rem 1rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
        button.secondary { background: #fff; color: var(--accent); }
        button.danger { background: var(--bad); border-color: var(--bad); }
        table { border-collapse: collapse; width: 100%; font-size: .95rem; }
        th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; }
        dl.facts dt { font-weight: 600; }
        dl.facts dd { margin: 0; overflow-wrap: anywhere; }
        .row { display: flex; gap: .75rem; flex-wrap: wrap; align-items: end; }
        .status-on { color: var(--good); font-weight: 700; }
        .status-off { color: var(--bad); font-weight: 700; }
        code { font-size: .9em; }
        </style>
        </head>
        <body>
        <a class="skip" href="#main">Skip to the content</a>
        <header class="site"><p>DocSend for Salesforce · team {{team}}</p></header>
        <main id="main" tabindex="-1" data-outcome="{{outcome}}">
        """#

    static let foot = #"""
        </main>
        </body>
        </html>
        """#

    /// A field's help and error lines (inside a control's context: `helpID`, `help`, `errorID`, `error`).
    static let settings = #"""
        {{>head}}
        <h1>Salesforce settings</h1>
        <p class="help">What DocSend syncs into your Salesforce org for team <strong>{{team}}</strong>, and how.</p>
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        {{#hasErrors}}
        <div class="problem" role="alert" aria-labelledby="problem-title" tabindex="-1" id="problems">
        <h2 id="problem-title">{{errorTitle}}</h2>
        <ul>{{#errorSummary}}<li>{{#anchor}}<a href="#{{anchor}}">{{message}}</a>{{/anchor}}{{^anchor}}{{message}}{{/anchor}}</li>{{/errorSummary}}</ul>
        </div>
        {{/hasErrors}}

        <section id="connection" aria-labelledby="connection-title">
        <h2 id="connection-title">Salesforce connection</h2>
        {{#connection}}
        <p>Status: <span class="status-on">Connected</span>{{#needsLogin}} — <span class="status-off">needs a new login</span>{{/needsLogin}}</p>
        {{#needsLogin}}<p class="problem">Salesforce refused the last login{{#needsLoginReason}} ({{needsLoginReason}}){{/needsLoginReason}}: DocSend cannot sync until you log in again below.</p>{{/needsLogin}}
        <dl class="facts">
        <dt>Salesforce user</dt><dd>{{username}}</dd>
        <dt>Org id</dt><dd><code>{{organizationID}}</code></dd>
        <dt>Instance</dt><dd>{{#instanceHref}}<a href="{{instanceHref}}">{{instanceURL}}</a>{{/instanceHref}}{{^instanceHref}}{{instanceURL}}{{/instanceHref}}</dd>
        <dt>Login host</dt><dd>{{loginURL}}</dd>
        <dt>Since</dt><dd>{{since}}</dd>
        </dl>
        {{/connection}}
        {{^connection}}
        <p>Status: <span class="status-off">Not connected</span>. DocSend syncs data to Salesforce only once your DocSend team is connected to your Salesforce account.</p>
        {{/connection}}

        <form method="get" action="{{teamPath}}/connect" id="connect-form">
        <fieldset>
        <legend>{{connectLegend}}</legend>
        <p class="help" id="host-help">Salesforce's login page opens: enter your Salesforce credentials there. DocSend never sees your password.</p>
        {{#hosts}}
        <div class="check">
        <input type="radio" name="host" id="{{id}}" value="{{value}}" aria-describedby="{{id}}-help"{{#checked}} checked{{/checked}}>
        <label for="{{id}}">{{label}}</label>
        <p class="help" id="{{id}}-help">{{help}}</p>
        </div>
        {{/hosts}}
        {{#myDomain}}
        <div class="field">
        <label for="{{id}}">My Domain login URL</label>
        <p class="help" id="{{id}}-help">Used with “My Domain”, for example https://acme.my.salesforce.com.</p>
        <input type="url" name="my_domain" id="{{id}}" value="{{value}}" aria-describedby="{{id}}-help{{#error}} {{id}}-error{{/error}}"{{#error}} aria-invalid="true"{{/error}} autocomplete="url">
        {{#error}}<p class="error" id="{{id}}-error">{{error}}</p>{{/error}}
        </div>
        {{/myDomain}}
        <button type="submit" id="connect-button">{{connectButton}}</button>
        </fieldset>
        </form>
        {{#connection}}
        <form method="get" action="{{teamPath}}/disconnect">
        <p class="help" id="disconnect-help">Disconnecting revokes DocSend's access at Salesforce and stops every sync; you confirm on the next page.</p>
        <button type="submit" class="danger" id="disconnect-button" aria-describedby="disconnect-help">Disconnect…</button>
        </form>
        {{/connection}}
        </section>

        <form method="post" action="{{teamPath}}/settings" id="settings-form" novalidate>
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <input type="hidden" name="settings_form" value="1">
        <section id="syncs" aria-labelledby="syncs-title">
        <h2 id="syncs-title">What DocSend syncs</h2>
        <p class="help">Once the integration is connected and on, DocSend creates Salesforce Tasks for these activities. Admins can switch every sync on or off here.</p>
        <p class="tip" id="require-email-tip"><strong>For accurate matching:</strong> DocSend syncs visits when a visitor's email address matches a lead or a contact in Salesforce. We recommend turning on the link setting <strong>Require email to view</strong> to ensure accurate syncing. If no email matches but an account name exists, the visit syncs to that account.</p>
        {{#syncs}}{{>toggle}}{{/syncs}}
        <h3 id="options-title">When a visit matches no lead or contact</h3>
        {{#options}}{{>toggle}}{{/options}}
        <h3 id="dates-title">Task dates</h3>
        {{#timeZone}}
        <div class="field">
        <label for="{{id}}">Time zone</label>
        <p class="help" id="{{id}}-help">Each Task's date is the day of the activity in this time zone: an IANA name such as America/Los_Angeles or Europe/Paris. UTC unless you change it.</p>
        <input type="text" name="time_zone" id="{{id}}" value="{{value}}" aria-describedby="{{id}}-help{{#error}} {{id}}-error{{/error}}"{{#error}} aria-invalid="true"{{/error}} autocomplete="off" spellcheck="false">
        {{#error}}<p class="error" id="{{id}}-error">{{error}}</p>{{/error}}
        </div>
        {{/timeZone}}
        <h3 id="deleted-title">Tasks deleted in Salesforce</h3>
        {{#deletedTasks}}{{>choice}}{{/deletedTasks}}
        </section>

        <section id="mapping" aria-labelledby="mapping-title">
        <h2 id="mapping-title">Field mapping</h2>
        <p class="help">These data points are synced into the Task's Comments field by default, but you can also map them to custom activity fields in Salesforce. Mapping visit data to custom Salesforce fields lets you build custom reports to measure document performance, revenue influenced by documents, and more.</p>
        {{#mappingReady}}
        {{#mapping}}{{>choice}}{{/mapping}}
        <h3 id="keys-title">Idempotency keys</h3>
        <p class="help">The custom Task fields (Text, External ID, Unique) that hold each activity's DocSend id, so a re-sync updates the same Task instead of creating a second one.</p>
        {{#externalIDs}}{{>choice}}{{/externalIDs}}
        {{/mappingReady}}
        {{^mappingReady}}
        <p id="mapping-unavailable">{{mappingUnavailable}}</p>
        {{#hasCurrentMapping}}<p>Mapped now:</p><ul>{{#currentMapping}}<li>{{label}} → <code>{{field}}</code></li>{{/currentMapping}}</ul>{{/hasCurrentMapping}}
        {{/mappingReady}}
        </section>
        <p><button type="submit" id="save-settings">Save settings</button></p>
        </form>

        <section id="account-links" aria-labelledby="links-title">
        <h2 id="links-title">Account links</h2>
        <p class="help">When a DocSend account is linked to a Salesforce Account, DocSend creates a Task on that Account for each document link and space link created.</p>
        {{#hasLinks}}
        <table>
        <caption class="muted">Linked accounts</caption>
        <thead><tr><th scope="col">DocSend account</th><th scope="col">Salesforce Account</th><th scope="col">Linked</th><th scope="col"><span class="muted">Action</span></th></tr></thead>
        <tbody>
        {{#links}}
        <tr>
        <td>{{docSendAccountID}}</td>
        <td>{{#href}}<a href="{{href}}">{{salesforceAccountID}}</a>{{/href}}{{^href}}{{salesforceAccountID}}{{/href}}</td>
        <td>{{updatedAt}}</td>
        <td><form method="post" action="{{deleteAction}}"><input type="hidden" name="csrf_token" value="{{csrf}}"><button type="submit" class="secondary" aria-label="Remove the link of DocSend account {{docSendAccountID}}">Remove</button></form></td>
        </tr>
        {{/links}}
        </tbody>
        </table>
        {{/hasLinks}}
        {{^hasLinks}}<p id="no-links">No DocSend account is linked yet.</p>{{/hasLinks}}

        <h3 id="search-title">Find a Salesforce Account</h3>
        <form method="get" action="{{teamPath}}#account-links" role="search" aria-labelledby="search-title">
        <div class="row">
        <div class="field">
        <label for="f-account_search">Account name</label>
        <input type="search" name="account_search" id="f-account_search" value="{{searchQuery}}" aria-describedby="f-account_search-help{{#searchError}} f-account_search-error{{/searchError}}"{{#searchError}} aria-invalid="true"{{/searchError}}>
        <p class="help" id="f-account_search-help">Part of the name; up to 20 Accounts are listed.</p>
        {{#searchError}}<p class="error" id="f-account_search-error">{{searchError}}</p>{{/searchError}}
        </div>
        <div class="field"><button type="submit" class="secondary" id="search-button">Search</button></div>
        </div>
        </form>
        {{#searched}}
        {{#hasResults}}
        <ul id="search-results">{{#results}}<li>{{name}} — <code>{{id}}</code>{{#href}} (<a href="{{href}}">open in Salesforce</a>){{/href}}</li>{{/results}}</ul>
        {{/hasResults}}
        {{^hasResults}}<p id="search-results">No Account's name contains “{{searchQuery}}”.</p>{{/hasResults}}
        {{/searched}}

        <h3 id="add-link-title">Link a DocSend account</h3>
        <form method="post" action="{{teamPath}}/account-links" id="add-link-form" novalidate>
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <input type="hidden" name="account_search" value="{{searchQuery}}">
        {{#linkForm}}
        <div class="field">
        <label for="f-docsend_account_id">DocSend account id</label>
        <p class="help" id="f-docsend_account_id-help">The account's id in DocSend.</p>
        <input type="text" name="docsend_account_id" id="f-docsend_account_id" value="{{docSendAccountID}}" aria-describedby="f-docsend_account_id-help{{#docSendError}} f-docsend_account_id-error{{/docSendError}}"{{#docSendError}} aria-invalid="true"{{/docSendError}}>
        {{#docSendError}}<p class="error" id="f-docsend_account_id-error">{{docSendError}}</p>{{/docSendError}}
        </div>
        <div class="field">
        <label for="f-salesforce_account_id">Salesforce Account</label>
        <p class="help" id="f-salesforce_account_id-help">{{#hasChoices}}Choose one of the Accounts found above.{{/hasChoices}}{{^hasChoices}}The Account's 15 or 18 character id (001…); search above to find it by name.{{/hasChoices}}</p>
        {{#hasChoices}}
        <select name="salesforce_account_id" id="f-salesforce_account_id" aria-describedby="f-salesforce_account_id-help{{#salesforceError}} f-salesforce_account_id-error{{/salesforceError}}"{{#salesforceError}} aria-invalid="true"{{/salesforceError}}>
        {{#choices}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/choices}}
        </select>
        {{/hasChoices}}
        {{^hasChoices}}
        <input type="text" name="salesforce_account_id" id="f-salesforce_account_id" value="{{salesforceAccountID}}" aria-describedby="f-salesforce_account_id-help{{#salesforceError}} f-salesforce_account_id-error{{/salesforceError}}"{{#salesforceError}} aria-invalid="true"{{/salesforceError}}>
        {{/hasChoices}}
        {{#salesforceError}}<p class="error" id="f-salesforce_account_id-error">{{salesforceError}}</p>{{/salesforceError}}
        </div>
        {{/linkForm}}
        <button type="submit" id="add-link-button">Link account</button>
        </form>
        </section>

        <section id="activity" aria-labelledby="activity-title">
        <h2 id="activity-title">Recently written to Salesforce</h2>
        {{#hasActivity}}
        <table>
        <caption class="muted">The last {{activityCount}} records DocSend wrote, newest first</caption>
        <thead><tr><th scope="col">When</th><th scope="col">Activity</th><th scope="col">DocSend id</th><th scope="col">Salesforce record</th></tr></thead>
        <tbody>
        {{#activity}}<tr><td>{{at}}</td><td>{{kind}}</td><td><code>{{objectID}}</code></td><td>{{#href}}<a href="{{href}}">{{salesforceType}} {{salesforceID}}</a>{{/href}}{{^href}}{{salesforceType}} {{salesforceID}}{{/href}}</td></tr>{{/activity}}
        </tbody>
        </table>
        {{/hasActivity}}
        {{^hasActivity}}<p id="no-activity">Nothing written to Salesforce yet.</p>{{/hasActivity}}
        </section>

        <section id="parked" aria-labelledby="parked-title">
        <h2 id="parked-title">Parked messages</h2>
        <p class="help">Activities DocSend could not sync (a field missing, a record locked, a setting that does not fit the org) wait here with the reason. Fix the cause, then replay them.</p>
        {{#parkedUnavailable}}<p id="parked-unavailable">{{parkedUnavailable}}</p>{{/parkedUnavailable}}
        {{#hasParked}}
        <table>
        <caption class="muted">{{parkedCount}} parked</caption>
        <thead><tr><th scope="col">Message</th><th scope="col">Type</th><th scope="col">Reason</th><th scope="col">Failed at</th><th scope="col">Attempts</th></tr></thead>
        <tbody>
        {{#parkedItems}}<tr><td><code>{{messageID}}</code></td><td>{{type}}</td><td><strong>{{failureCode}}</strong> {{failureReason}}</td><td>{{failedAt}}</td><td>{{attempts}}</td></tr>{{/parkedItems}}
        </tbody>
        </table>
        <form method="post" action="{{teamPath}}/parked/replay">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        <p><button type="submit" id="replay-button">Replay {{parkedCount}} parked message(s)</button></p>
        </form>
        {{/hasParked}}
        {{#parkedEmpty}}<p id="no-parked">No parked messages.</p>{{/parkedEmpty}}
        </section>
        <p class="muted">Your session ends {{sessionExpires}}.</p>
        {{>foot}}
        """#

    /// A result or confirmation page: a title, what happened, facts, forms, and the way back.
    static let message = #"""
        {{>head}}
        <h1>{{title}}</h1>
        {{#paragraphs}}<p{{#alert}} class="problem" role="alert"{{/alert}}{{^alert}} role="status"{{/alert}}>{{text}}</p>{{/paragraphs}}
        {{#hasFacts}}<dl class="facts">{{#facts}}<dt>{{name}}</dt><dd>{{value}}</dd>{{/facts}}</dl>{{/hasFacts}}
        {{#hasItems}}<ul>{{#items}}<li>{{.}}</li>{{/items}}</ul>{{/hasItems}}
        {{#forms}}
        <form method="post" action="{{action}}">
        <input type="hidden" name="csrf_token" value="{{csrf}}">
        {{#hidden}}<input type="hidden" name="{{name}}" value="{{value}}">{{/hidden}}
        <p class="help" id="{{id}}-help">{{help}}</p>
        <button type="submit" id="{{id}}" name="action" value="{{actionValue}}" class="{{style}}" aria-describedby="{{id}}-help">{{label}}</button>
        </form>
        {{/forms}}
        {{#back}}<p><a href="{{back}}" id="back-link">{{backLabel}}</a></p>{{/back}}
        {{>foot}}
        """#

    /// A checkbox with its label, help and error (context: a ``AdminPages/ControlView``).
    static let toggle = #"""
        <div class="check">
        <input type="checkbox" name="{{name}}" id="{{id}}" value="on" aria-describedby="{{id}}-help{{#error}} {{id}}-error{{/error}}"{{#error}} aria-invalid="true"{{/error}}{{#checked}} checked{{/checked}}>
        <label for="{{id}}">{{label}}</label>
        <p class="help" id="{{id}}-help">{{help}}</p>
        {{#error}}<p class="error" id="{{id}}-error">{{error}}</p>{{/error}}
        </div>
        """#

    /// A select with its label, help and error (context: a ``AdminPages/ControlView``).
    static let choice = #"""
        <div class="field">
        <label for="{{id}}">{{label}}</label>
        <p class="help" id="{{id}}-help">{{help}}</p>
        <select name="{{name}}" id="{{id}}" aria-describedby="{{id}}-help{{#error}} {{id}}-error{{/error}}"{{#error}} aria-invalid="true"{{/error}}>
        {{#options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/options}}
        </select>
        {{#error}}<p class="error" id="{{id}}-error">{{error}}</p>{{/error}}
        </div>
        """#
}
