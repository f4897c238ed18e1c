"""Plays the operator in the demo: creates the accounts' CAPA roles as the prerequisites leave
them, makes an out-of-band edit, and shows live documents. Talks to the local emulator only."""
import json
import sys
import urllib.parse

import boto3

ENDPOINT = sys.argv[1]
ROLE = "control-plane.cluster-api-provider-aws.sigs.k8s.io"
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def iam(account):
    sts = boto3.client("sts", endpoint_url=ENDPOINT, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
                        RoleSessionName="demo")["Credentials"]
    return boto3.client("iam", endpoint_url=ENDPOINT, region_name="us-east-1",
                        aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                        aws_session_token=c["SessionToken"])


def trust(account):
    doc = iam(account).get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    return doc if isinstance(doc, dict) else json.loads(urllib.parse.unquote(doc))


cmd = sys.argv[2]
if cmd == "create-roles":
    for account in sys.argv[3:]:
        iam(account).create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        print(f"  account {account}: role {ROLE} (trusts ec2.amazonaws.com)")
elif cmd == "show-trust":
    print(json.dumps(trust(sys.argv[3]), indent=2))
elif cmd == "tamper":
    account = sys.argv[3]
    doc = trust(account)
    for s in doc["Statement"]:
        if s.get("Sid", "").startswith("XacctTrust"):
            s["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    iam(account).update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(doc))
    print(f"  someone added an MFA condition to xacct's trust statement in account {account}")
