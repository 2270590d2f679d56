// Generated from docs/admin-openapi.json (the copy in the repository): keep both the same; a test compares them, and
// another checks that every route of ``AdminRoutes/all`` is in the document and the reverse.

/// The OpenAPI 3.1 document of the admin service, served at `GET /api/v1/openapi.json`.
public enum AdminOpenAPI {
    /// The document, as JSON.
    public static let document = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "docsend-sync admin API",
    "version": "1.0.0",
    "description": "DocSend's administration of a team's Salesforce sync: connection status, settings, account links, recent activity, parked messages and the audit trail (docs/admin.md). Every change is recorded in the audit trail."
  },
  "components": {
    "securitySchemes": {
      "apiToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "dss1.<team>.<base64url(HMAC-SHA256(signingKey, \"api:\" + team))>, valid for its team only (`docsend-sync admin token --team T`)."
      },
      "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "dss_session",
        "description": "A browser session opened by a signed link (/session); POSTs also need its CSRF token."
      }
    },
    "parameters": {
      "team": {
        "name": "team",
        "in": "path",
        "required": true,
        "description": "The DocSend team id: 1 to 128 of A-Z a-z 0-9 _ - . :",
        "schema": {
          "type": "string",
          "pattern": "^[A-Za-z0-9_.:-]{1,128}$"
        }
      }
    },
    "responses": {
      "Error": {
        "description": "An error: 400 malformed, 401 no valid credential, 403 another team's credential or a bad CSRF token, 404, 409 not connected, 413 body over 64 KiB, 422 validation (per field), 502 Salesforce failed, 503 parking lot unavailable.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      }
    },
    "schemas": {
      "Error": {
        "type": "object",
        "required": [
          "error",
          "message",
          "fields"
        ],
        "properties": {
          "error": {
            "type": "string",
            "description": "A stable code: unauthenticated, forbidden, csrf_failed, invalid_request, validation_failed, not_connected, needs_login, not_found, salesforce_error, parking_unavailable, access_denied, authorization_failed, state_unknown, state_mismatch, state_expired, code_rejected, wrong_org_type, confirmation_unknown."
          },
          "message": {
            "type": "string"
          },
          "fields": {
            "type": "array",
            "items": {
              "type": "object",
              "required": [
                "field",
                "message"
              ],
              "properties": {
                "field": {
                  "type": "string",
                  "examples": [
                    "field_mapping.visit_duration"
                  ]
                },
                "message": {
                  "type": "string"
                }
              }
            }
          }
        }
      },
      "Settings": {
        "type": "object",
        "properties": {
          "sync_visits": {
            "type": "boolean"
          },
          "sync_document_links": {
            "type": "boolean"
          },
          "sync_space_links": {
            "type": "boolean"
          },
          "create_leads_for_unmatched_emails": {
            "type": "boolean"
          },
          "create_open_tasks_for_unmatched_records": {
            "type": "boolean"
          },
          "time_zone": {
            "type": "string",
            "description": "The IANA time zone (e.g. America/Los_Angeles) whose calendar day is every Task's ActivityDate; UTC by default. An unknown name is refused (422).",
            "examples": [
              "America/Los_Angeles"
            ]
          },
          "deleted_tasks": {
            "type": "string",
            "enum": [
              "recreate",
              "leave"
            ],
            "description": "What a later write (a visit re-sync, a link's visitor refresh) does when a sales rep deleted the Task in Salesforce: recreate writes it again whole as the first sync did (the default), leave writes nothing and stops updating it. Never a partial Task."
          },
          "field_mapping": {
            "type": "object",
            "description": "Synced property (document_name, account_name, visit_duration, percent_viewed, analytics_link, document_url, internal_link_url, external_link_url, visitors, space_name, space_url, internal_space_url) to a custom Task field API name.",
            "additionalProperties": {
              "type": "string"
            }
          },
          "external_id_fields": {
            "type": "object",
            "properties": {
              "visit": {
                "type": "string"
              },
              "document_link": {
                "type": "string"
              },
              "space_link": {
                "type": "string"
              }
            }
          }
        }
      },
      "SettingsChange": {
        "type": "object",
        "additionalProperties": false,
        "description": "Only the keys given change; a mapping to null removes it. Unknown keys and wrong types are refused per field (422).",
        "properties": {
          "sync_visits": {
            "type": "boolean"
          },
          "sync_document_links": {
            "type": "boolean"
          },
          "sync_space_links": {
            "type": "boolean"
          },
          "create_leads_for_unmatched_emails": {
            "type": "boolean"
          },
          "create_open_tasks_for_unmatched_records": {
            "type": "boolean"
          },
          "time_zone": {
            "type": "string",
            "description": "The IANA time zone (e.g. America/Los_Angeles) whose calendar day is every Task's ActivityDate; UTC by default. An unknown name is refused (422).",
            "examples": [
              "America/Los_Angeles"
            ]
          },
          "deleted_tasks": {
            "type": "string",
            "enum": [
              "recreate",
              "leave"
            ],
            "description": "What a later write (a visit re-sync, a link's visitor refresh) does when a sales rep deleted the Task in Salesforce: recreate writes it again whole as the first sync did (the default), leave writes nothing and stops updating it. Never a partial Task."
          },
          "field_mapping": {
            "type": "object",
            "additionalProperties": {
              "type": [
                "string",
                "null"
              ]
            }
          },
          "external_id_fields": {
            "type": "object",
            "additionalProperties": {
              "type": "string"
            }
          }
        }
      },
      "Status": {
        "type": "object",
        "required": [
          "team",
          "connection",
          "settings"
        ],
        "properties": {
          "team": {
            "type": "string"
          },
          "settings": {
            "$ref": "#/components/schemas/Settings"
          },
          "connection": {
            "oneOf": [
              {
                "type": "null"
              },
              {
                "type": "object",
                "properties": {
                  "instance_url": {
                    "type": "string"
                  },
                  "login_url": {
                    "type": "string"
                  },
                  "flow": {
                    "enum": [
                      "refresh_token",
                      "client_credentials"
                    ]
                  },
                  "needs_login": {
                    "type": "boolean"
                  },
                  "needs_login_reason": {
                    "type": "string"
                  },
                  "updated_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "organization_id": {
                    "type": "string"
                  },
                  "username": {
                    "type": "string"
                  }
                }
              }
            ]
          }
        }
      },
      "Disconnect": {
        "type": "object",
        "required": [
          "revoked"
        ],
        "properties": {
          "revoked": {
            "type": "boolean"
          },
          "revoke_error": {
            "type": "string",
            "description": "Why Salesforce did not revoke the token; the connection was deleted anyway."
          }
        }
      },
      "ConnectReply": {
        "type": "object",
        "required": [
          "outcome"
        ],
        "properties": {
          "outcome": {
            "enum": [
              "connected",
              "needs_confirmation",
              "cancelled"
            ]
          },
          "connected": {
            "type": "object",
            "properties": {
              "organization_id": {
                "type": "string"
              },
              "instance_url": {
                "type": "string"
              },
              "username": {
                "type": "string"
              },
              "org_changed": {
                "type": "boolean"
              },
              "problems": {
                "type": "array",
                "items": {
                  "type": "string"
                }
              }
            }
          },
          "confirmation": {
            "type": "object",
            "properties": {
              "confirmation": {
                "type": "string"
              },
              "previous_organization_id": {
                "type": "string"
              },
              "previous_instance_url": {
                "type": "string"
              },
              "organization_id": {
                "type": "string"
              },
              "instance_url": {
                "type": "string"
              },
              "username": {
                "type": "string"
              }
            }
          }
        }
      }
    }
  },
  "paths": {
    "/api/v1/openapi.json": {
      "get": {
        "summary": "This document",
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          }
        },
        "security": []
      }
    },
    "/api/v1/teams/{team}/status": {
      "get": {
        "summary": "The team's connection and settings",
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Status"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "apiToken": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          }
        ]
      }
    },
    "/api/v1/teams/{team}/settings": {
      "get": {
        "summary": "The team's settings",
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Settings"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "500": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "apiToken": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          }
        ]
      },
      "patch": {
        "summary": "Change the team's settings; a mapping is checked against the org's Task fields",
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Settings"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "409": {
            "$ref": "#/components/responses/Error"
          },
          "413": {
            "$ref": "#/components/responses/Error"
          },
          "422": {
            "$ref": "#/components/responses/Error"
          },
          "502": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "apiToken": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/SettingsChange"
              }
            }
          }
        }
      }
    },
    "/api/v1/teams/{team}/task-fields": {
      "get": {
        "summary": "The org's Task fields (the mapping's choices)",
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "fields": {
                      "type": "array",
                      "items": {
                        "type": "object",
                        "properties": {
                          "name": {
                            "type": "string"
                          },
                          "type": {
                            "type": "string"
                          },
                          "length": {
                            "type": "integer"
                          },
                          "custom": {
                            "type": "boolean"
                          },
                          "createable": {
                            "type": "boolean"
                          },
                          "updateable": {
                            "type": "boolean"
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "409": {
            "$ref": "#/components/responses/Error"
          },
          "502": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "apiToken": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          }
        ]
      }
    },
    "/api/v1/teams/{team}/account-links": {
      "get": {
        "summary": "The team's account links",
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "links": {
                      "type": "array",
                      "items": {
                        "type": "object",
                        "properties": {
                          "docsend_account_id": {
                            "type": "string"
                          },
                          "salesforce_account_id": {
                            "type": "string"
                          },
                          "updated_at": {
                            "type": "string",
                            "format": "date-time"
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "apiToken": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          }
        ]
      }
    },
    "/api/v1/teams/{team}/account-links/{account}": {
      "put": {
        "summary": "Link a DocSend account to a Salesforce Account (checked to exist)",
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "409": {
            "$ref": "#/components/responses/Error"
          },
          "422": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "apiToken": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          },
          {
            "name": "account",
            "in": "path",
            "required": true,
            "description": "The DocSend account id (percent-encoded).",
            "schema": {
              "type": "string",
              "minLength": 1,
              "maxLength": 255
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": [
                  "salesforce_account_id"
                ],
                "properties": {
                  "salesforce_account_id": {
                    "type": "string"
                  }
                }
              }
            }
          }
        }
      },
      "delete": {
        "summary": "Remove a link",
        "responses": {
          "204": {
            "description": "Removed"
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "apiToken": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          },
          {
            "name": "account",
            "in": "path",
            "required": true,
            "description": "The DocSend account id (percent-encoded).",
            "schema": {
              "type": "string",
              "minLength": 1,
              "maxLength": 255
            }
          }
        ]
      }
    },
    "/api/v1/teams/{team}/accounts": {
      "get": {
        "summary": "Search the org's Accounts by name (contains, case-insensitive, at most 20)",
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "accounts": {
                      "type": "array",
                      "items": {
                        "type": "object",
                        "properties": {
                          "id": {
                            "type": "string"
                          },
                          "name": {
                            "type": "string"
                          },
                          "url": {
                            "type": "string"
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "409": {
            "$ref": "#/components/responses/Error"
          },
          "502": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "apiToken": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          },
          {
            "name": "name",
            "in": "query",
            "required": true,
            "schema": {
              "type": "string",
              "minLength": 1,
              "maxLength": 80
            }
          }
        ]
      }
    },
    "/api/v1/teams/{team}/activity": {
      "get": {
        "summary": "What was written to Salesforce lately, newest first, with record links",
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "activity": {
                      "type": "array",
                      "items": {
                        "type": "object",
                        "properties": {
                          "kind": {
                            "type": "string"
                          },
                          "object_id": {
                            "type": "string"
                          },
                          "salesforce_type": {
                            "type": "string"
                          },
                          "salesforce_id": {
                            "type": "string"
                          },
                          "record_url": {
                            "type": "string"
                          },
                          "at": {
                            "type": "string",
                            "format": "date-time"
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "400": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "apiToken": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 200,
              "default": 50
            }
          }
        ]
      }
    },
    "/api/v1/teams/{team}/parked": {
      "get": {
        "summary": "The team's parked messages with their reasons",
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "parked": {
                      "type": "array",
                      "items": {
                        "type": "object",
                        "properties": {
                          "message_id": {
                            "type": "string"
                          },
                          "type": {
                            "type": "string"
                          },
                          "failure_code": {
                            "type": "string"
                          },
                          "failure_reason": {
                            "type": "string"
                          },
                          "failed_at": {
                            "type": "string"
                          },
                          "attempts": {
                            "type": "integer"
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "503": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "apiToken": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 1000,
              "default": 100
            }
          }
        ]
      }
    },
    "/api/v1/teams/{team}/parked/replay": {
      "post": {
        "summary": "Send the team's parked messages back to work",
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "replayed": {
                      "type": "integer"
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "503": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "apiToken": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          }
        ]
      }
    },
    "/api/v1/teams/{team}/audit": {
      "get": {
        "summary": "The audit trail, newest first",
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "entries": {
                      "type": "array",
                      "items": {
                        "type": "object",
                        "properties": {
                          "id": {
                            "type": "integer"
                          },
                          "actor": {
                            "type": "string"
                          },
                          "action": {
                            "type": "string"
                          },
                          "details": {
                            "type": "object"
                          },
                          "at": {
                            "type": "string",
                            "format": "date-time"
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "400": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "apiToken": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 500,
              "default": 100
            }
          }
        ]
      }
    },
    "/api/v1/teams/{team}/disconnect": {
      "post": {
        "summary": "Revoke the refresh token at Salesforce and delete the connection",
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Disconnect"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "409": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "apiToken": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          }
        ]
      }
    },
    "/session": {
      "get": {
        "summary": "Open a browser session from a signed link; redirects to the team's page",
        "responses": {
          "303": {
            "description": "Session cookie set"
          },
          "401": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [],
        "parameters": [
          {
            "name": "team",
            "in": "query",
            "required": true,
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "expires",
            "in": "query",
            "required": true,
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "sig",
            "in": "query",
            "required": true,
            "schema": {
              "type": "string"
            }
          }
        ]
      }
    },
    "/teams/{team}/session": {
      "get": {
        "summary": "The session's team, expiry and CSRF token",
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "team": {
                      "type": "string"
                    },
                    "expires_at": {
                      "type": "string",
                      "format": "date-time"
                    },
                    "csrf_token": {
                      "type": "string"
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "session": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          }
        ]
      }
    },
    "/teams/{team}/connect": {
      "get": {
        "summary": "Start the OAuth login: redirects to Salesforce",
        "responses": {
          "303": {
            "description": "To Salesforce's authorize page"
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "400": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "session": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          },
          {
            "name": "host",
            "in": "query",
            "required": true,
            "schema": {
              "type": "string",
              "description": "production, sandbox, https://NAME.my.salesforce.com, or my_domain (the page's form) with the URL in my_domain"
            }
          },
          {
            "name": "my_domain",
            "in": "query",
            "required": false,
            "schema": {
              "type": "string",
              "description": "the My Domain login URL when host=my_domain"
            }
          }
        ],
        "description": "A browser given an invalid host gets the settings page again with the problem under the My Domain field (400)."
      }
    },
    "/oauth/callback": {
      "get": {
        "summary": "Salesforce's redirect: finishes the login (code, state) or reports its error",
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ConnectReply"
                }
              },
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "502": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "session": []
          }
        ],
        "parameters": [
          {
            "name": "code",
            "in": "query",
            "required": false,
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "state",
            "in": "query",
            "required": false,
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "error",
            "in": "query",
            "required": false,
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "error_description",
            "in": "query",
            "required": false,
            "schema": {
              "type": "string"
            }
          }
        ],
        "description": "Answers an HTML page to a browser (Accept: text/html), errors included; JSON otherwise."
      }
    },
    "/teams/{team}/connect/confirm": {
      "post": {
        "summary": "Confirm (or cancel) connecting the team to another org; confirming clears its org-specific state",
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ConnectReply"
                }
              },
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "400": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "session": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/x-www-form-urlencoded": {
              "schema": {
                "type": "object",
                "properties": {
                  "confirmation": {
                    "type": "string"
                  },
                  "csrf_token": {
                    "type": "string"
                  },
                  "action": {
                    "enum": [
                      "confirm",
                      "cancel"
                    ]
                  }
                },
                "required": [
                  "confirmation",
                  "csrf_token"
                ]
              }
            }
          }
        },
        "description": "Answers an HTML page to a browser (Accept: text/html), errors included; JSON otherwise."
      }
    },
    "/teams/{team}/disconnect": {
      "get": {
        "summary": "The disconnect confirmation page (HTML)",
        "responses": {
          "200": {
            "description": "The page",
            "content": {
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "409": {
            "description": "Not connected",
            "content": {
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          }
        },
        "security": [
          {
            "session": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          }
        ]
      },
      "post": {
        "summary": "Disconnect from the page",
        "responses": {
          "200": {
            "description": "OK",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Disconnect"
                }
              },
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "409": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "session": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/x-www-form-urlencoded": {
              "schema": {
                "type": "object",
                "properties": {
                  "csrf_token": {
                    "type": "string"
                  }
                },
                "required": [
                  "csrf_token"
                ]
              }
            }
          }
        },
        "description": "Answers an HTML page to a browser (Accept: text/html), errors included; JSON otherwise."
      }
    },
    "/teams/{team}": {
      "get": {
        "summary": "The settings page (HTML)",
        "description": "Connection, syncs and options with their help, the field mapping (the org's Task fields as choices), account links and the Account search, the last Tasks written, parked messages.",
        "responses": {
          "200": {
            "description": "The page",
            "content": {
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "session": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          },
          {
            "name": "account_search",
            "in": "query",
            "required": false,
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "done",
            "in": "query",
            "required": false,
            "schema": {
              "enum": [
                "settings",
                "link_added",
                "link_removed",
                "replayed"
              ]
            }
          },
          {
            "name": "count",
            "in": "query",
            "required": false,
            "schema": {
              "type": "integer"
            }
          }
        ]
      }
    },
    "/teams/{team}/settings": {
      "post": {
        "summary": "Save the settings form of the page",
        "description": "Toggles (checkbox value on; absent is off when settings_form is given), field_mapping.<property> and external_id_fields.<activity> (a field name; empty unmaps). Refused: the page again with the problems per field.",
        "responses": {
          "303": {
            "description": "Saved: to the page"
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "409": {
            "description": "Not connected (the page, or the JSON error)",
            "content": {
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "422": {
            "description": "The page with the problems per field (or the JSON error)",
            "content": {
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          }
        },
        "security": [
          {
            "session": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/x-www-form-urlencoded": {
              "schema": {
                "type": "object",
                "properties": {
                  "csrf_token": {
                    "type": "string"
                  },
                  "settings_form": {
                    "type": "string"
                  },
                  "sync_visits": {
                    "type": "string"
                  },
                  "sync_document_links": {
                    "type": "string"
                  },
                  "sync_space_links": {
                    "type": "string"
                  },
                  "create_leads_for_unmatched_emails": {
                    "type": "string"
                  },
                  "create_open_tasks_for_unmatched_records": {
                    "type": "string"
                  },
                  "time_zone": {
                    "type": "string"
                  },
                  "deleted_tasks": {
                    "type": "string",
                    "enum": [
                      "recreate",
                      "leave"
                    ]
                  }
                },
                "required": [
                  "csrf_token"
                ]
              }
            }
          }
        }
      }
    },
    "/teams/{team}/account-links": {
      "post": {
        "summary": "Link a DocSend account from the page",
        "responses": {
          "303": {
            "description": "Linked: to the page"
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "409": {
            "description": "Not connected",
            "content": {
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "422": {
            "description": "The page with the problems per field (or the JSON error)",
            "content": {
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          }
        },
        "security": [
          {
            "session": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/x-www-form-urlencoded": {
              "schema": {
                "type": "object",
                "properties": {
                  "csrf_token": {
                    "type": "string"
                  },
                  "docsend_account_id": {
                    "type": "string"
                  },
                  "salesforce_account_id": {
                    "type": "string"
                  },
                  "account_search": {
                    "type": "string"
                  }
                },
                "required": [
                  "csrf_token",
                  "docsend_account_id",
                  "salesforce_account_id"
                ]
              }
            }
          }
        }
      }
    },
    "/teams/{team}/account-links/{account}/delete": {
      "post": {
        "summary": "Remove an account link from the page",
        "responses": {
          "303": {
            "description": "Removed: to the page"
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "session": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          },
          {
            "name": "account",
            "in": "path",
            "required": true,
            "schema": {
              "type": "string"
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/x-www-form-urlencoded": {
              "schema": {
                "type": "object",
                "properties": {
                  "csrf_token": {
                    "type": "string"
                  }
                },
                "required": [
                  "csrf_token"
                ]
              }
            }
          }
        }
      }
    },
    "/teams/{team}/parked/replay": {
      "post": {
        "summary": "Replay the team's parked messages from the page",
        "responses": {
          "303": {
            "description": "Replayed: to the page, with the count"
          },
          "401": {
            "$ref": "#/components/responses/Error"
          },
          "403": {
            "$ref": "#/components/responses/Error"
          },
          "503": {
            "$ref": "#/components/responses/Error"
          }
        },
        "security": [
          {
            "session": []
          }
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/team"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/x-www-form-urlencoded": {
              "schema": {
                "type": "object",
                "properties": {
                  "csrf_token": {
                    "type": "string"
                  }
                },
                "required": [
                  "csrf_token"
                ]
              }
            }
          }
        }
      }
    }
  }
}
"""#
}
