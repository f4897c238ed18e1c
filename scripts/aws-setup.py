"""Plays the operator in the demo: gives each account the role AWS Organizations creates in an
account it vends (and nothing else), makes out-of-band edits, and shows live documents. Talks to
the local emulator only."""
import json
import sys
import urllib.parse

import boto3

ENDPOINT = sys.argv[1]
ACCESS_ROLE = "OrganizationAccountAccessRole"
SUFFIX = ".cluster-api-provider-aws.sigs.k8s.io"
CONTROLLERS = "controllers" + SUFFIX
NODES = "nodes" + SUFFIX


def iam(account):
    sts = boto3.client("sts", endpoint_url=ENDPOINT, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ACCESS_ROLE}",
                        RoleSessionName="demo")["Credentials"]
    return boto3.client("iam", endpoint_url=ENDPOINT, region_name="us-east-1",
                        aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                        aws_session_token=c["SessionToken"])


def trust(account, role):
    doc = iam(account).get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    return doc if isinstance(doc, dict) else json.loads(urllib.parse.unquote(doc))


def roles(account):
    return sorted(r["RoleName"] for r in iam(account).list_roles()["Roles"])


cmd = sys.argv[2]
if cmd == "create-access-roles":
    # What Organizations' CreateAccount leaves: one administrator role trusting the organization's
    # management account (here the first account given). No CAPA role, policy or instance profile.
    org_management = sys.argv[3]
    for account in sys.argv[3:]:
        client = iam(account)
        client.create_role(RoleName=ACCESS_ROLE, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{org_management}:root"},
                           "Action": "sts:AssumeRole"}],
        }))
        client.put_role_policy(RoleName=ACCESS_ROLE, PolicyName="AdministratorAccess", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }))
        print(f"  account {account}: roles {', '.join(roles(account))}")
elif cmd == "list-roles":
    for account in sys.argv[3:]:
        print(f"  account {account}: roles {', '.join(roles(account))}")
elif cmd == "show-trust":
    print(json.dumps(trust(sys.argv[3], CONTROLLERS), indent=2))
elif cmd == "tamper":
    account = sys.argv[3]
    client = iam(account)
    doc = trust(account, CONTROLLERS)
    for s in doc["Statement"]:
        if s.get("Sid", "").startswith("XacctTrust"):
            s["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    client.update_assume_role_policy(RoleName=CONTROLLERS, PolicyDocument=json.dumps(doc))
    print(f"  someone added an MFA condition to xacct's trust statement on {CONTROLLERS} in account {account}")
    client.detach_role_policy(RoleName=NODES, PolicyArn=f"arn:aws:iam::{account}:policy/{NODES}")
    print(f"  and detached the policy {NODES} from the role {NODES}")
