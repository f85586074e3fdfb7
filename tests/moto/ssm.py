"""The SSM parameters an account holds in one region, as JSON: {name: {"value", "data_type",
"type", "version"}}.

    python ssm.py PORT REGION
"""

import json
import sys

import boto3


def main():
    port, region = sys.argv[1], sys.argv[2]
    ssm = boto3.client("ssm", endpoint_url=f"http://127.0.0.1:{port}", region_name=region,
                       aws_access_key_id="kiln-moto-key", aws_secret_access_key="kiln-moto-secret")
    out = {}
    for page in ssm.get_paginator("describe_parameters").paginate():
        for p in page["Parameters"]:
            got = ssm.get_parameter(Name=p["Name"])["Parameter"]
            out[p["Name"]] = {"value": got["Value"], "data_type": got.get("DataType"),
                              "type": got["Type"], "version": got["Version"]}
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
