#!/usr/bin/env python3
"""A naive DocSend visit → Salesforce Task worker: the reference scripts/bench-fleet measures the fleet against.

Written the way a team would first write it: N threads, each with its own pika BlockingConnection (prefetch 1,
one message at a time) and its own simple-salesforce client, a few SOQL queries and one upsert per visit, ack
after. What it deliberately leaves out is in README.md beside this file.

Environment:
  AMQP_URL          amqp://guest:guest@127.0.0.1:5672/%2F
  QUEUE             the queue to consume (the fleet's visits queue, e.g. docsend-sync.visits)
  THREADS           consumer threads (8)
  SF_LOGIN_URL      where to POST /services/oauth2/token (the org's login host)
  SF_CLIENT_ID, SF_CLIENT_SECRET, SF_REFRESH_TOKEN   the connected app and the team's refresh token
  SF_API_VERSION    62.0
"""

import json
import logging
import os
import signal
import sys
import threading

import pika
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce

VISIT_ID_FIELD = "DocSend_Visit_Id__c"
DURATION_FIELD = "DocSend_Duration__c"
PERCENT_FIELD = "DocSend_Percent_Viewed__c"

log = logging.getLogger("naive-worker")
stopping = threading.Event()


class PlainHTTPAdapter(HTTPAdapter):
    """simple-salesforce always builds https:// URLs; the sandbox speaks plain HTTP on loopback (and so does the
    fleet in the benchmark). This adapter sends them as http:// so that neither side pays for TLS."""

    def send(self, request, **kwargs):
        request.url = "http://" + request.url[len("https://"):]
        return super().send(request, **kwargs)


def login() -> tuple[str, str]:
    """OAuth refresh-token grant; returns (access token, instance URL)."""
    response = requests.post(
        os.environ["SF_LOGIN_URL"].rstrip("/") + "/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": os.environ["SF_CLIENT_ID"],
            "client_secret": os.environ["SF_CLIENT_SECRET"],
            "refresh_token": os.environ["SF_REFRESH_TOKEN"],
        },
        timeout=30,
    )
    response.raise_for_status()
    body = response.json()
    return body["access_token"], body["instance_url"]


def salesforce(token: str, instance_url: str) -> Salesforce:
    session = requests.Session()
    session.mount("https://", PlainHTTPAdapter())
    return Salesforce(
        instance_url=instance_url, session_id=token, session=session,
        version=os.environ.get("SF_API_VERSION", "62.0"))


def soql_string(value: str) -> str:
    """A SOQL string literal: visitor emails are attacker-controlled."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def first_id(sf: Salesforce, soql: str):
    records = sf.query(soql)["records"]
    return records[0]["Id"] if records else None


def visit_started(sf: Salesforce, data: dict) -> None:
    email = (data.get("visitor") or {}).get("email") or ""
    account = data.get("account") or {}
    who_id = what_id = None
    if email:
        who_id = first_id(sf, f"SELECT Id FROM Contact WHERE Email = {soql_string(email)} "
                              "ORDER BY LastModifiedDate DESC LIMIT 1")
        if who_id is None:
            who_id = first_id(sf, f"SELECT Id FROM Lead WHERE Email = {soql_string(email)} AND IsConverted = false "
                                  "ORDER BY LastModifiedDate DESC LIMIT 1")
    if who_id is None and account:
        what_id = account.get("salesforce_account_id") or (
            first_id(sf, f"SELECT Id FROM Account WHERE Name = {soql_string(account.get('name', ''))} LIMIT 1")
            if account.get("name") else None)
    if who_id is None and what_id is None:
        log.info("visit %s matched nothing: not synced", data["visit_id"])
        return
    visitor = email or (data.get("visitor") or {}).get("name") or "anonymous"
    document = data["document"]["name"]
    task = {
        "Subject": f"DocSend: {visitor} viewed \"{document}\""[:255],
        "Description": "\n".join([
            f"Document: {document}",
            f"Account: {account.get('name', '')}",
            f"Analytics: {data['analytics_url']}",
            f"Visitor: {visitor}",
        ]),
        "ActivityDate": data["started_at"][:10],
        "Status": "Completed",
        "WhoId": who_id,
        "WhatId": what_id,
    }
    sf.Task.upsert(f"{VISIT_ID_FIELD}/{data['visit_id']}", task)


def visit_updated(sf: Salesforce, data: dict) -> None:
    sf.Task.upsert(f"{VISIT_ID_FIELD}/{data['visit_id']}", {
        DURATION_FIELD: data["duration_seconds"],
        PERCENT_FIELD: data["percent_viewed"],
    })


def consume(index: int, token: str, instance_url: str) -> None:
    sf = salesforce(token, instance_url)
    connection = pika.BlockingConnection(pika.URLParameters(os.environ["AMQP_URL"]))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=1)
    queue = os.environ["QUEUE"]
    log.info("thread %d consuming %s", index, queue)
    for method, properties, body in channel.consume(queue, inactivity_timeout=0.5):
        if stopping.is_set():
            break
        if method is None:
            continue
        try:
            event = json.loads(body)
            if event["type"] == "visit.started":
                visit_started(sf, event["data"])
            elif event["type"] == "visit.updated":
                visit_updated(sf, event["data"])
            channel.basic_ack(method.delivery_tag)
        except Exception:  # a naive worker: log, and put the message back for another try
            log.exception("message %s failed", properties.message_id)
            channel.basic_nack(method.delivery_tag, requeue=True)
    channel.cancel()
    connection.close()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    token, instance_url = login()
    threads = [threading.Thread(target=consume, args=(i, token, instance_url), daemon=True)
               for i in range(int(os.environ.get("THREADS", "8")))]
    for thread in threads:
        thread.start()
    # The main thread only waits (with a timeout, so that SIGTERM's handler runs at once); a thread that died is a
    # failure, reported by the exit status.
    while not stopping.wait(0.5) and all(thread.is_alive() for thread in threads):
        pass
    stopping.set()
    for thread in threads:
        thread.join(5)
    log.info("stopped")
    return 0 if all(not thread.is_alive() for thread in threads) else 1


if __name__ == "__main__":
    sys.exit(main())
