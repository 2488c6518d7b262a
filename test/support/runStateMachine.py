"""
Runs one execution of a state machine definition in moto's Step Functions interpreter (its
in-process parser mode; moto_server does not run definitions) against moto's S3, and prints
what came of it as JSON. stdin: {"definition": str, "bucket": str, "objects": {key: text},
"input": str, "replies"?: {"<stream> <window start>": [reply, ...]}}. stdout: {"status",
"output", "error", "cause", "objects": {key: text}, "invocations": [payload, ...], "mapRuns":
[DescribeMapRun, ...], "refused": [every answer Step Functions refused]}.
One execution per process: moto's interpreter runs the first execution of a process only.

A window task of the callback pattern (`….waitForTaskToken`) is played here: the test swaps its
Lambda invocation for a message to the SQS queue `windows` (moto invokes a Lambda function only
with Docker), and this script, in the function's place, reads each message, takes the task token
from it and answers with SendTaskSuccess or SendTaskFailure, as the function does when the
window's durable execution ends. `replies` says how each try of a window is answered, in order:
"success" (the default), "failure" (WindowsFailedError) or "silent" (no answer: the task times out).
"""
import json
import os
import sys
import threading
import time

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
for name in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[name]

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402


def play_function(sqs, sfn, queue_url: str, replies: dict, invocations: list, refused: list, stop: threading.Event) -> None:
    """Answers each window's task token the way the durable function does at the end of its execution."""
    tries: dict = {}
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            # Stops only with the queue empty: a task may send its message and end at once (moto
            # ends a retried callback task with its first answer), and that message still counts.
            if stop.is_set():
                return
            time.sleep(0.05)
            continue
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            event = json.loads(message["Body"])
            invocations.append(event)
            name = f"{event.get('stream')} {event['window']['start']}"
            attempt = tries.get(name, 0)
            tries[name] = attempt + 1
            planned = replies.get(name, [])
            reply = planned[attempt] if attempt < len(planned) else "success"
            token = event["taskToken"]
            try:
                if reply == "success":
                    summary = {"source": event["source"], "trigger": "window", "streams": [{"stream": event.get("stream"), "window": event["window"], "status": "committed"}]}
                    sfn.send_task_success(taskToken=token, output=json.dumps(summary))
                elif reply == "failure":
                    sfn.send_task_failure(taskToken=token, error="WindowsFailedError", cause=f"1 window(s) failed: {name}: HTTP 500")
            except Exception as error:  # noqa: BLE001 - reported to the test, which asserts there are none
                refused.append(f"{name} try {attempt + 1}: {error}")


@mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
def main() -> None:
    request = json.load(sys.stdin)
    s3, sfn, sqs = boto3.client("s3"), boto3.client("stepfunctions"), boto3.client("sqs")
    s3.create_bucket(Bucket=request["bucket"])
    for key, body in request["objects"].items():
        s3.put_object(Bucket=request["bucket"], Key=key, Body=body.encode("utf-8"))
    queue_url = sqs.create_queue(QueueName="windows")["QueueUrl"]
    invocations: list = []
    refused: list = []
    stop = threading.Event()
    player = threading.Thread(target=play_function, args=(sqs, sfn, queue_url, request.get("replies", {}), invocations, refused, stop), daemon=True)
    player.start()
    arn = sfn.create_state_machine(name="run", definition=request["definition"], roleArn="arn:aws:iam::123456789012:role/run")["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=request["input"])["executionArn"]
    deadline = time.time() + 60
    described = sfn.describe_execution(executionArn=execution)
    while described["status"] == "RUNNING" and time.time() < deadline:
        time.sleep(0.05)
        described = sfn.describe_execution(executionArn=execution)
    stop.set()
    player.join()
    map_runs = [sfn.describe_map_run(mapRunArn=m["mapRunArn"]) for m in sfn.list_map_runs(executionArn=execution)["mapRuns"]]
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=request["bucket"]):
        for item in page.get("Contents", []):
            objects[item["Key"]] = s3.get_object(Bucket=request["bucket"], Key=item["Key"])["Body"].read().decode("utf-8")
    json.dump({k: described.get(k) for k in ("status", "output", "error", "cause")} | {"objects": objects, "invocations": invocations, "mapRuns": map_runs, "refused": refused}, sys.stdout, default=str)


main()
