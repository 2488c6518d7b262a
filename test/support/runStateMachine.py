"""
Runs one execution of a state machine definition in moto's Step Functions interpreter (its
in-process parser mode; moto_server does not run definitions) against moto's S3, and prints
what came of it as JSON. stdin: {"definition": str, "bucket": str, "objects": {key: text},
"input": str}. stdout: {"status", "output", "error", "cause", "objects": {key: text}}.
One execution per process: moto's interpreter runs the first execution of a process only.
"""
import json
import os
import sys
import time

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
for name in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[name]

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402


@mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
def main() -> None:
    request = json.load(sys.stdin)
    s3, sfn = boto3.client("s3"), boto3.client("stepfunctions")
    s3.create_bucket(Bucket=request["bucket"])
    for key, body in request["objects"].items():
        s3.put_object(Bucket=request["bucket"], Key=key, Body=body.encode("utf-8"))
    arn = sfn.create_state_machine(name="run", definition=request["definition"], roleArn="arn:aws:iam::123456789012:role/run")["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=request["input"])["executionArn"]
    deadline = time.time() + 60
    described = sfn.describe_execution(executionArn=execution)
    while described["status"] == "RUNNING" and time.time() < deadline:
        time.sleep(0.05)
        described = sfn.describe_execution(executionArn=execution)
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=request["bucket"]):
        for item in page.get("Contents", []):
            objects[item["Key"]] = s3.get_object(Bucket=request["bucket"], Key=item["Key"])["Body"].read().decode("utf-8")
    json.dump({k: described.get(k) for k in ("status", "output", "error", "cause")} | {"objects": objects}, sys.stdout)


main()
