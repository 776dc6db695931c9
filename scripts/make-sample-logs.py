#!/usr/bin/env python3
"""(Re)create sample-logs/: a small, hand-designed CloudTrail trail for ctq's tests and demo.

Everything here is written by hand (no third-party data) and the output is deterministic:
IDs come from hashes and uuid5, gzip headers carry mtime=0 and no file name, so running the
script twice gives byte-identical files.

    python3 scripts/make-sample-logs.py

The story: IAM user "username" in account 123456789012 is denied cloudtrail:LookupEvents twice
inside the reference window 2019-10-29T06:40:00Z <= t < 06:55:00Z (the two events of the AWS
article), next to a set of near misses (other error codes, other event types, other principals,
the window's edges) and a day and a bit of ordinary background traffic in two accounts.
"""

import base64
import gzip
import hashlib
import io
import json
import re
import shutil
import uuid
from collections import Counter, OrderedDict
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "sample-logs"

ACCT_A = "123456789012"
ACCT_B = "210987654321"  # lives in the organization trail
ORG_ID = "o-a1b2c3d4e5"
ORG_MGMT = "999988887777"
BUCKET = "acme-cloudtrail-logs"
TRAIL_A = "management-events"

WINDOW = ("2019-10-29T06:40:00Z", "2019-10-29T06:55:00Z")  # [start, end)
U_NAME = "username"
U_ARN = f"arn:aws:iam::{ACCT_A}:user/{U_NAME}"

# uuid5 namespace for every generated eventID / requestID (fixed, arbitrary).
NS = uuid.UUID("5c7b0e3a-2d41-4f6e-9a8b-0c1d2e3f4a5b")

EVENT_VERSION = "1.08"

# Key order of a record, as AWS writes it. Optional keys are left out when an event has no value.
KEY_ORDER = [
    "eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
    "sourceIPAddress", "userAgent", "errorCode", "errorMessage", "requestParameters",
    "responseElements", "additionalEventData", "requestID", "eventID", "readOnly", "resources",
    "eventType", "apiVersion", "managementEvent", "recipientAccountId", "sharedEventID",
    "vpcEndpointId", "eventCategory", "addendum", "tlsDetails", "sessionCredentialFromConsole",
]
ALWAYS = {"requestParameters", "responseElements"}  # written even when null


# --------------------------------------------------------------------------------------------
# deterministic identifiers

B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # alphabet of IAM unique IDs and access key IDs
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _digest(*parts):
    return hashlib.sha512("\x1f".join(parts).encode()).digest()


def fake_id(prefix, length, *seed):
    """AIDA.../AROA.../AKIA.../ASIA... style ID derived from seed."""
    d = _digest(prefix, *seed)
    return prefix + "".join(B32[b % 32] for b in d[: length - len(prefix)])


def alnum(n, *seed):
    d = _digest("alnum", *seed)
    return "".join(ALNUM[b % 62] for b in d[:n])


def blob(n, *seed, urlsafe=True):
    raw = _digest("blob", *seed) + _digest("blob2", *seed)
    enc = base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)
    return enc.decode().rstrip("=")[:n]


def uid(kind, key):
    return str(uuid.uuid5(NS, f"{kind}-{key}"))


# --------------------------------------------------------------------------------------------
# identities

def iam_user(acct, name):
    return {
        "type": "IAMUser",
        "principalId": fake_id("AIDA", 21, acct, name),
        "arn": f"arn:aws:iam::{acct}:user/{name}",
        "accountId": acct,
        "accessKeyId": fake_id("AKIA", 20, acct, name),
        "userName": name,
    }


def assumed_role(acct, role, session, created, mfa=False, web=None, ec2=False):
    role_id = fake_id("AROA", 21, acct, role)
    ctx = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": role_id,
            "arn": f"arn:aws:iam::{acct}:role/{role}",
            "accountId": acct,
            "userName": role,
        },
        "webIdFederationData": web or {},
        "attributes": {"creationDate": created, "mfaAuthenticated": "true" if mfa else "false"},
    }
    if ec2:
        ctx["ec2RoleDelivery"] = "2.0"
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{acct}:assumed-role/{role}/{session}",
        "accountId": acct,
        "accessKeyId": fake_id("ASIA", 20, acct, role, session, created),
        "sessionContext": ctx,
    }


def aws_service(service):
    return {"type": "AWSService", "invokedBy": service}


def aws_account(caller):
    """How the resource owner's copy of a cross-account call names the caller."""
    return {"type": "AWSAccount", "principalId": caller["principalId"], "accountId": caller["accountId"]}


GH_PROVIDER = f"arn:aws:iam::{ACCT_A}:oidc-provider/token.actions.githubusercontent.com"
GH_SUB = "repo:acme/app:ref:refs/heads/main"
GH_WEB_FED = {"federatedProvider": GH_PROVIDER, "attributes": {"sub": GH_SUB, "aud": "sts.amazonaws.com"}}


def web_identity_user():
    return {
        "type": "WebIdentityUser",
        "principalId": f"{GH_PROVIDER}:sts.amazonaws.com:{GH_SUB}",
        "userName": GH_SUB,
        "identityProvider": GH_PROVIDER,
    }


def not_authorized(arn, action, resource=None, tail=None):
    msg = f"User: {arn} is not authorized to perform: {action}"
    if resource:
        msg += f" on resource: {resource}"
    if tail:
        msg += f" {tail}"
    return msg


def ec2_unauthorized(seed):
    return ("You are not authorized to perform this operation. Encoded authorization failure message: "
            + blob(120, "ec2-encoded", seed))


# principals
U = iam_user(ACCT_A, U_NAME)
MATEO = iam_user(ACCT_A, "mateojackson")
OPS = iam_user(ACCT_A, "ops")
ANALYST = iam_user(ACCT_B, "analyst")
DIEGO = assumed_role(ACCT_A, "Testrole", "Diego", "2019-10-29T06:30:12Z")
JANE = assumed_role(ACCT_A, "Admin", "jane.doe", "2019-10-29T06:15:03Z", mfa=True)
GH = assumed_role(ACCT_A, "GitHubActionsDeploy", "GitHubActions", "2019-10-29T05:55:30Z", web=GH_WEB_FED)


def lambda_role(created):
    return assumed_role(ACCT_A, "app-handler-role", "app-handler", created)


def deployer(run, created):
    return assumed_role(ACCT_B, "Deployer", f"ci-run-{run}", created)


WEB_NODE = assumed_role(ACCT_B, "web-instance-role", "i-0a1b2c3d4e5f60718", "2019-10-28T22:50:00Z", ec2=True)
CONFIG = aws_service("config.amazonaws.com")
CT_SVC = aws_service("cloudtrail.amazonaws.com")

# addresses from the documentation ranges, user agents of the era
IP_U, IP_MATEO, IP_OPS, IP_DIEGO = "203.0.113.25", "198.51.100.17", "192.0.2.44", "192.0.2.130"
IP_ANALYST, IP_CI, IP_JANE, IP_GH = "203.0.113.77", "198.51.100.42", "203.0.113.101", "192.0.2.201"
IP_LAMBDA, IP_WEB = "198.51.100.200", "203.0.113.150"
UA_U = "aws-cli/1.16.266 Python/3.7.4 Darwin/18.7.0 botocore/1.13.2"
UA_MATEO = "aws-cli/1.16.263 Python/3.6.0 Windows/10 botocore/1.13.0"
UA_OPS = "Boto3/1.9.253 Python/3.7.3 Linux/4.19.76-linuxkit Botocore/1.12.253"
UA_DIEGO = "aws-cli/1.16.266 Python/3.7.4 Linux/4.15.0-66-generic botocore/1.13.2"
UA_ANALYST = "aws-cli/1.16.266 Python/3.8.0 Linux/5.3.0-19-generic botocore/1.13.2"
UA_CI = ("APN/1.0 HashiCorp/1.0 Terraform/0.12.12 (+https://www.terraform.io) "
         "aws-sdk-go/1.25.19 (go1.13.1; linux; amd64)")
UA_GH = "aws-sdk-nodejs/2.561.0 linux/v12.13.0 exec-env/GitHubActions promise"
UA_LAMBDA = "awslambda-worker"
UA_WEB = "aws-sdk-java/1.11.660 Linux/4.14.146-119.123.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/25.222-b10 java/1.8.0_222"

KMS_KEY_EU = f"arn:aws:kms:eu-west-1:{ACCT_A}:key/6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
KMS_KEY_B = f"arn:aws:kms:us-west-2:{ACCT_B}:key/0c9d8e7f-6a5b-4c3d-a2e1-f0a9b8c7d6e5"
KMS_KEY_CT = f"arn:aws:kms:us-east-1:{ACCT_A}:key/2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d"
LAMBDA_ARN = f"arn:aws:lambda:eu-west-1:{ACCT_A}:function:app-handler"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCT_A}:trail/{TRAIL_A}"
TLS = {"tlsVersion": "TLSv1.2", "cipherSuite": "ECDHE-RSA-AES128-GCM-SHA256",
       "clientProvidedHostHeader": "s3.amazonaws.com"}


def s3_extra(seed, out=None):
    d = {"SignatureVersion": "SigV4", "CipherSuite": "ECDHE-RSA-AES128-GCM-SHA256", "bytesTransferredIn": 0,
         "AuthenticationMethod": "AuthHeader", "x-amz-id-2": blob(76, "x-amz-id-2", seed, urlsafe=False)}
    if out is not None:
        d["bytesTransferredOut"] = out
    return d


def s3_object(bucket, key, acct):
    return [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
            {"accountId": acct, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]


def role_resource(acct, role):
    return [{"accountId": acct, "type": "AWS::IAM::Role", "ARN": f"arn:aws:iam::{acct}:role/{role}"}]


def kms_resource(key_arn):
    return [{"accountId": key_arn.split(":")[4], "type": "AWS::KMS::Key", "ARN": key_arn}]


LOOKUP_ALL = {"maxResults": 50}
LOOKUP_USER = {"lookupAttributes": [{"attributeKey": "Username", "attributeValue": "ops"}], "maxResults": 50}
XACCT_ASSUME_REQ = {"roleArn": f"arn:aws:iam::{ACCT_B}:role/Deployer", "roleSessionName": "ops-break-glass"}
XACCT_ASSUME_RESP = {
    "credentials": {"accessKeyId": fake_id("ASIA", 20, ACCT_B, "Deployer", "ops-break-glass"),
                    "expiration": "Oct 29, 2019 5:10:00 AM"},
    "assumedRoleUser": {"assumedRoleId": fake_id("AROA", 21, ACCT_B, "Deployer") + ":ops-break-glass",
                        "arn": f"arn:aws:sts::{ACCT_B}:assumed-role/Deployer/ops-break-glass"},
}

# --------------------------------------------------------------------------------------------
# the event table
#
# One dict per record. "file" groups records into one delivered log file (same account and
# region); records keep this table's order inside their file, which is not always time order.
# Defaults: acct A, region us-east-1, eventType AwsApiCall, management event, readOnly from the
# API name. "tag" marks the designed events that the README explains.

A1, AE, AW = "us-east-1", "eu-west-1", "us-west-2"

SESSION_POLICY_DENIAL = dict(
    file="b1-0036", acct=ACCT_B, t="2019-10-30T00:35:02Z", who=deployer(45, "2019-10-30T00:34:20Z"),
    src="dynamodb", name="PutItem", ip=IP_CI, ua=UA_CI, tag="cause-session-policy",
    eid="7d1c5e3a-9b2f-4c8d-a6e1-0f3b5d7c9e21", rid="2b4d6f8a-1c3e-4a5b-9d7f-8e6c4a2b0d13",
    req={"tableName": "build-status", "key": {"id": {"S": "run-45"}}},
    resources=[{"accountId": ACCT_B, "type": "AWS::DynamoDB::Table",
                "ARN": f"arn:aws:dynamodb:us-east-1:{ACCT_B}:table/build-status"}],
    err=("AccessDeniedException", not_authorized(
        deployer(45, "2019-10-30T00:34:20Z")["arn"], "dynamodb:PutItem",
        f"arn:aws:dynamodb:us-east-1:{ACCT_B}:table/build-status",
        "because no session policy allows the dynamodb:PutItem action")))

EVENTS = [
    # ---- 2019-10-28, evening ------------------------------------------------------------------
    dict(file="a1-2300", t="2019-10-28T23:02:11Z", who=U, src="sts", name="GetCallerIdentity",
         ip=IP_U, ua=UA_U, req=None),
    dict(file="a1-2300", t="2019-10-28T23:04:37Z", who=U, src="cloudtrail", name="LookupEvents",
         ip=IP_U, ua=UA_U, req=LOOKUP_ALL, tag="day-before-1",
         err=("AccessDenied", not_authorized(U_ARN, "cloudtrail:LookupEvents"))),
    dict(file="a1-2300", t="2019-10-28T23:05:02Z", who=U, src="cloudtrail", name="DescribeTrails",
         ip=IP_U, ua=UA_U, req={"includeShadowTrails": True}),
    dict(file="bw-2318", acct=ACCT_B, region=AW, t="2019-10-28T23:18:44Z", who=WEB_NODE, src="ec2",
         name="DescribeTags", ip=IP_WEB, ua=UA_WEB,
         req={"filterSet": {"items": [{"name": "resource-id", "valueSet": {"items": [{"value": "i-0a1b2c3d4e5f60718"}]}}]}}),
    dict(file="bw-2318", acct=ACCT_B, region=AW, t="2019-10-28T23:21:09Z", who=WEB_NODE, src="kms",
         name="Decrypt", ro=True, ip=IP_WEB, ua=UA_WEB, resources=kms_resource(KMS_KEY_B),
         req={"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
    dict(file="ae-2336", region=AE, t="2019-10-28T23:36:27Z", who=lambda_role("2019-10-28T23:30:00Z"),
         src="logs", name="CreateLogStream", ip=IP_LAMBDA, ua=UA_LAMBDA,
         req={"logGroupName": "/aws/lambda/app-handler",
              "logStreamName": "2019/10/28/[$LATEST]4f0b8c1d2e3a4b5c6d7e8f9a0b1c2d3e"}),
    dict(file="ae-2336", region=AE, t="2019-10-28T23:37:50Z", who=lambda_role("2019-10-28T23:30:00Z"),
         src="kms", name="Decrypt", ro=True, ip=IP_LAMBDA, ua=UA_LAMBDA, resources=kms_resource(KMS_KEY_EU),
         req={"encryptionContext": {"LambdaFunctionName": "app-handler"}, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
    dict(file="a1-2340", t="2019-10-28T23:40:15Z", who=U, src="iam", name="ListAttachedUserPolicies",
         ip=IP_U, ua=UA_U, req={"userName": U_NAME}),
    dict(file="a1-2340", t="2019-10-28T23:41:02Z", who=U, src="iam", name="GetUserPolicy",
         ip=IP_U, ua=UA_U, req={"userName": U_NAME, "policyName": "deny-cloudtrail-lookup"}, tag="day-before-2",
         err=("AccessDenied", not_authorized(U_ARN, "iam:GetUserPolicy", f"user {U_NAME}"))),

    # ---- 2019-10-29, before the window --------------------------------------------------------
    dict(file="b1-0112", acct=ACCT_B, t="2019-10-29T01:12:33Z", who=deployer(41, "2019-10-29T01:11:50Z"),
         src="sts", name="GetCallerIdentity", ip=IP_CI, ua=UA_CI, req=None),
    dict(file="b1-0112", acct=ACCT_B, t="2019-10-29T01:13:05Z", who=deployer(41, "2019-10-29T01:11:50Z"),
         src="s3", name="PutObject", ro=False, category="Data", ip="10.20.3.15", ua=f"[{UA_CI}]",
         req={"bucketName": "prod-artifacts", "key": "build/app.zip", "Host": "prod-artifacts.s3.amazonaws.com"},
         resp={"x-amz-server-side-encryption": "AES256"}, additional=s3_extra("put-41"),
         resources=s3_object("prod-artifacts", "build/app.zip", ACCT_B), vpce="vpce-0a1b2c3d4e5f67890"),
    dict(file="aw-0327", region=AW, t="2019-10-29T03:27:18Z", who=MATEO, src="ec2", name="DescribeInstances",
         ip=IP_MATEO, ua=UA_MATEO, req={"instancesSet": {}, "filterSet": {}}),
    dict(file="aw-0327", region=AW, t="2019-10-29T03:28:40Z", who=MATEO, src="ec2", name="DescribeSecurityGroups",
         ip=IP_MATEO, ua=UA_MATEO, req={"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}}),
    # one cross-account call, recorded in both accounts (same requestID and sharedEventID)
    dict(file="a1-0410", t="2019-10-29T04:10:00Z", who=OPS, src="sts", name="AssumeRole", ro=True,
         ip=IP_OPS, ua=UA_OPS, req=XACCT_ASSUME_REQ, resp=XACCT_ASSUME_RESP,
         resources=role_resource(ACCT_B, "Deployer"), shared="xacct-assume"),
    dict(file="b1-0410", acct=ACCT_B, t="2019-10-29T04:10:00Z", who=aws_account(OPS), src="sts",
         name="AssumeRole", ro=True, ip=IP_OPS, ua=UA_OPS, req=XACCT_ASSUME_REQ, resp=XACCT_ASSUME_RESP,
         resources=role_resource(ACCT_B, "Deployer"), shared="xacct-assume"),
    # GitHub Actions via OIDC: the federation call, then the session's calls
    dict(file="a1-0555", t="2019-10-29T05:55:30Z", who=web_identity_user(), src="sts",
         name="AssumeRoleWithWebIdentity", ro=True, ip=IP_GH, ua=UA_GH,
         req={"roleArn": f"arn:aws:iam::{ACCT_A}:role/GitHubActionsDeploy", "roleSessionName": "GitHubActions",
              "durationSeconds": 3600},
         resp={"credentials": {"accessKeyId": GH["accessKeyId"], "expiration": "Oct 29, 2019 6:55:30 AM"},
               "subjectFromWebIdentityToken": GH_SUB,
               "assumedRoleUser": {"assumedRoleId": GH["principalId"], "arn": GH["arn"]},
               "provider": GH_PROVIDER, "audience": "sts.amazonaws.com"},
         resources=role_resource(ACCT_A, "GitHubActionsDeploy")),
    dict(file="ae-0556", region=AE, t="2019-10-29T05:56:02Z", who=GH, src="lambda",
         name="UpdateFunctionCode20150331v2", ip=IP_GH, ua=UA_GH, api="2015-03-31",
         req={"functionName": "app-handler", "publish": False, "dryRun": False},
         resp={"functionName": "app-handler", "functionArn": LAMBDA_ARN, "runtime": "nodejs10.x",
               "handler": "index.handler", "codeSize": 48213, "version": "$LATEST",
               "lastModified": "2019-10-29T05:56:02.311+0000",
               "codeSha256": "q1Yp3Xw0dZb8m2Jk7Hc4Rt9LsVn6Ee5Aa1Bb2Cc3Dd4="}),
    dict(file="ae-0556", region=AE, t="2019-10-29T05:56:40Z", who=GH, src="lambda",
         name="PublishVersion20150331", ip=IP_GH, ua=UA_GH, api="2015-03-31",
         req={"functionName": "app-handler", "codeSha256": "q1Yp3Xw0dZb8m2Jk7Hc4Rt9LsVn6Ee5Aa1Bb2Cc3Dd4="},
         resp={"functionName": "app-handler", "functionArn": f"{LAMBDA_ARN}:7", "version": "7",
               "runtime": "nodejs10.x", "codeSize": 48213}),
    dict(file="a1-0620", t="2019-10-29T06:20:14Z", who=JANE, src="cloudtrail", name="GetTrailStatus",
         ip=IP_JANE, ua="console.amazonaws.com", req={"name": TRAIL_ARN}, console=True),
    dict(file="a1-0620", t="2019-10-29T06:22:03Z", who=U, src="s3", name="GetBucketLocation",
         ip=IP_U, ua=UA_U, req={"location": "", "bucketName": BUCKET, "Host": "s3.amazonaws.com"},
         additional=s3_extra("location"), resources=[{"accountId": ACCT_A, "type": "AWS::S3::Bucket",
                                                      "ARN": f"arn:aws:s3:::{BUCKET}"}], tls=TLS),

    # ---- around the reference window 06:40:00 <= t < 06:55:00 ---------------------------------
    dict(file="ae-0643", region=AE, t="2019-10-29T06:38:02Z", who=DIEGO, src="autoscaling",
         name="DescribeAutoScalingGroups", ip=IP_DIEGO, ua=UA_DIEGO, req={"autoScalingGroupNames": ["web-asg"]}),
    dict(file="ae-0643", region=AE, t="2019-10-29T06:43:20Z", who=DIEGO, src="autoscaling",
         name="CreateAutoScalingGroup", ip=IP_DIEGO, ua=UA_DIEGO, tag="other-principal",
         req={"autoScalingGroupName": "web-asg",
              "launchTemplate": {"launchTemplateName": "web-lt", "version": "$Latest"},
              "minSize": 1, "maxSize": 3, "desiredCapacity": 1,
              "vPCZoneIdentifier": "subnet-0a1b2c3d,subnet-1a2b3c4d"},
         err=("AccessDenied", not_authorized(
             DIEGO["arn"], "iam:PassRole",
             f"arn:aws:iam::{ACCT_A}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"))),
    dict(file="a1-0641", t="2019-10-29T06:39:59Z", who=U, src="cloudtrail", name="LookupEvents",
         ip=IP_U, ua=UA_U, req=LOOKUP_ALL, tag="edge-before",
         err=("AccessDenied", not_authorized(U_ARN, "cloudtrail:LookupEvents"))),
    dict(file="a1-0641", t="2019-10-29T06:41:48Z", who=U, src="cloudtrail", name="LookupEvents",
         ip=IP_U, ua=UA_U, req=LOOKUP_ALL, eid="14e5e77c-f682-45e1-8c88-12d15af293dd", tag="article",
         err=("AccessDenied", not_authorized(U_ARN, "cloudtrail:LookupEvents"))),
    dict(file="b1-0644", acct=ACCT_B, t="2019-10-29T06:43:31Z", who=ANALYST, src="organizations",
         name="DescribeOrganization", ip=IP_ANALYST, ua=UA_ANALYST, req=None),
    dict(file="b1-0644", acct=ACCT_B, t="2019-10-29T06:44:00Z", who=ANALYST, src="organizations",
         name="ListAccounts", ip=IP_ANALYST, ua=UA_ANALYST, req=None, tag="other-principal",
         err=("AccessDeniedException", not_authorized(
             ANALYST["arn"], "organizations:ListAccounts",
             tail=f"with an explicit deny in a service control policy: "
                  f"arn:aws:organizations::{ORG_MGMT}:policy/{ORG_ID}/service_control_policy/p-examplescp1"))),
    dict(file="a1-0647", t="2019-10-29T06:45:10Z", who=U, src="cloudtrail", name="LookupEvents",
         ip=IP_U, ua=UA_U, req=LOOKUP_ALL, tag="not-a-denial", err=("ThrottlingException", "Rate exceeded")),
    dict(file="a1-0647", t="2019-10-29T06:45:12Z", who=OPS, src="cloudtrail", name="LookupEvents",
         ip=IP_OPS, ua=UA_OPS, req=LOOKUP_USER, tag="other-principal-throttled",
         err=("ThrottlingException", "Rate exceeded")),
    dict(file="a1-0647", t="2019-10-29T06:47:00Z", who=U, src="s3", name="ListBuckets",
         ip=IP_U, ua=UA_U, req={"Host": "s3.amazonaws.com"}, additional=s3_extra("list-buckets"),
         tag="success"),
    dict(file="a1-0647", t="2019-10-29T06:46:40Z", who=OPS, src="s3", name="GetBucketPolicy",
         ip=IP_OPS, ua=UA_OPS, req={"bucketName": "ops-backups-2019", "policy": "",
                                    "Host": "ops-backups-2019.s3.amazonaws.com"},
         additional=s3_extra("no-such-bucket"),
         resources=[{"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::ops-backups-2019"}],
         tag="other-principal-not-a-denial",
         err=("NoSuchBucket", "The specified bucket does not exist")),
    dict(file="a1-0652", t="2019-10-29T06:48:30Z", who=U, src="sts", name="AssumeRole", ro=True,
         etype="AwsServiceEvent", ip=IP_U, ua=UA_U, tag="service-event",
         req={"roleArn": f"arn:aws:iam::{ACCT_A}:role/ReadOnly", "roleSessionName": U_NAME},
         err=("AccessDenied", not_authorized(U_ARN, "sts:AssumeRole", f"arn:aws:iam::{ACCT_A}:role/ReadOnly"))),
    dict(file="ae-0650", region=AE, t="2019-10-29T06:49:00Z", who=OPS, src="sts", name="AssumeRole", ro=True,
         ip=IP_OPS, ua=UA_OPS, tag="other-principal",
         req={"roleArn": f"arn:aws:iam::{ACCT_A}:role/Admin", "roleSessionName": "ops-admin"},
         err=("AccessDenied", not_authorized(OPS["arn"], "sts:AssumeRole", f"arn:aws:iam::{ACCT_A}:role/Admin"))),
    dict(file="ae-0650", region=AE, t="2019-10-29T06:50:41Z", who=OPS, src="sts", name="GetCallerIdentity",
         ip=IP_OPS, ua=UA_OPS, req=None),
    dict(file="aw-0650", region=AW, t="2019-10-29T06:49:40Z", who=MATEO, src="ec2", name="DescribeInstances",
         ip=IP_MATEO, ua=UA_MATEO, req={"instancesSet": {}, "filterSet": {}}),
    dict(file="aw-0650", region=AW, t="2019-10-29T06:50:05Z", who=MATEO, src="ec2", name="RunInstances",
         ip=IP_MATEO, ua=UA_MATEO, tag="other-principal",
         req={"instancesSet": {"items": [{"imageId": "ami-0c5204531f799e0c6", "minCount": 1, "maxCount": 1}]},
              "instanceType": "t3.micro", "blockDeviceMapping": {}, "monitoring": {"enabled": False},
              "disableApiTermination": False,
              "iamInstanceProfile": {"name": "web-instance-profile"}},
         err=("Client.UnauthorizedOperation", ec2_unauthorized("run-instances-0650"))),
    dict(file="a1-0652", t="2019-10-29T06:51:30Z", who=MATEO, src="ecs", name="DescribeClusters",
         ip=IP_MATEO, ua=UA_MATEO, req={"clusters": ["prod"]}, tag="other-principal",
         err=("AccessDeniedException", not_authorized(
             MATEO["arn"], "ecs:DescribeClusters", f"arn:aws:ecs:us-east-1:{ACCT_A}:cluster/prod",
             "because no identity-based policy allows the ecs:DescribeClusters action"))),
    dict(file="a1-0652", t="2019-10-29T06:52:45Z", who=U, src="cloudtrail", name="LookupEvents",
         ip=IP_U, ua=UA_U, req=LOOKUP_ALL, eid="0406f0c1-47a8-4f71-8a94-18267b84042a", tag="article",
         err=("AccessDenied", not_authorized(U_ARN, "cloudtrail:LookupEvents", tail="with an explicit deny"))),
    dict(file="a1-0652", t="2019-10-29T06:52:00Z", who=CONFIG, src="iam", name="GetRole",
         ip="config.amazonaws.com", ua="config.amazonaws.com", req={"roleName": "config-recorder-role"},
         tag="service-principal", err=("AccessDenied", "")),
    dict(file="b1-0654", acct=ACCT_B, t="2019-10-29T06:53:12Z", who=deployer(42, "2019-10-29T06:52:58Z"),
         src="s3", name="ListObjects", category="Data", ip=IP_CI, ua=f"[{UA_CI}]",
         req={"list-type": "2", "bucketName": "prod-artifacts", "prefix": "build/",
              "Host": "prod-artifacts.s3.amazonaws.com"},
         additional=s3_extra("list-42", out=1835),
         resources=[{"accountId": ACCT_B, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::prod-artifacts"}]),
    dict(file="b1-0654", acct=ACCT_B, t="2019-10-29T06:53:59Z", who=deployer(42, "2019-10-29T06:52:58Z"),
         src="s3", name="GetObject", category="Data", ip=IP_CI, ua=f"[{UA_CI}]", tag="other-principal",
         req={"bucketName": "prod-artifacts", "key": "build/app.zip", "Host": "prod-artifacts.s3.amazonaws.com"},
         additional={"bytesTransferredIn": 0, "x-amz-id-2": "abc"},
         resources=s3_object("prod-artifacts", "build/app.zip", ACCT_B),
         err=("AccessDenied", "Access Denied")),
    dict(file="a1-0658", t="2019-10-29T06:55:00Z", who=U, src="cloudtrail", name="LookupEvents",
         ip=IP_U, ua=UA_U, req=LOOKUP_ALL, tag="edge-after",
         err=("AccessDenied", not_authorized(U_ARN, "cloudtrail:LookupEvents", tail="with an explicit deny"))),
    dict(file="a1-0658", t="2019-10-29T06:58:12Z", who=U, src="sts", name="GetCallerIdentity",
         ip=IP_U, ua=UA_U, req=None),

    # ---- 2019-10-29, after the window ---------------------------------------------------------
    dict(file="a1-0705", t="2019-10-29T07:05:33Z", who=U, src="cloudtrail", name="DescribeTrails",
         ip=IP_U, ua=UA_U, req={"includeShadowTrails": True}),
    dict(file="be-0914", acct=ACCT_B, region=AE, t="2019-10-29T09:14:07Z", who=deployer(43, "2019-10-29T09:13:40Z"),
         src="lambda", name="GetFunction20150331v2", ip=IP_CI, ua=UA_CI, api="2015-03-31",
         req={"functionName": "report-builder"}),
    dict(file="be-0914", acct=ACCT_B, region=AE, t="2019-10-29T09:14:52Z", who=deployer(43, "2019-10-29T09:13:40Z"),
         src="logs", name="DescribeLogGroups", ip=IP_CI, ua=UA_CI,
         req={"logGroupNamePrefix": "/aws/lambda/report-builder"}),
    dict(file="a1-1230", t="2019-10-29T12:30:00Z", who=CT_SVC, src="kms", name="GenerateDataKey", ro=True,
         ip="cloudtrail.amazonaws.com", ua="cloudtrail.amazonaws.com", resources=kms_resource(KMS_KEY_CT),
         req={"keyId": KMS_KEY_CT, "keySpec": "AES_256",
              "encryptionContext": {"aws:cloudtrail:arn": TRAIL_ARN,
                                    "aws:s3:arn": f"arn:aws:s3:::{BUCKET}/AWSLogs/{ACCT_A}/CloudTrail/us-east-1/2019/10/29/"}}),
    dict(file="ae-1445", region=AE, t="2019-10-29T14:45:19Z", who=lambda_role("2019-10-29T14:40:00Z"),
         src="kms", name="Decrypt", ro=True, ip=IP_LAMBDA, ua=UA_LAMBDA, resources=kms_resource(KMS_KEY_EU),
         req={"encryptionContext": {"LambdaFunctionName": "app-handler"}, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
    dict(file="a1-1602", t="2019-10-29T16:02:44Z", who=OPS, src="iam", name="CreateAccessKey",
         ip=IP_OPS, ua=UA_OPS, req={"userName": "ops"},
         resp={"accessKey": {"userName": "ops", "accessKeyId": fake_id("AKIA", 20, ACCT_A, "ops", "rotated"),
                             "status": "Active", "createDate": "Oct 29, 2019 4:02:44 PM"}}),
    dict(file="a1-1602", t="2019-10-29T16:03:10Z", who=OPS, src="iam", name="UpdateAccessKey",
         ip=IP_OPS, ua=UA_OPS, req={"userName": "ops", "accessKeyId": OPS["accessKeyId"], "status": "Inactive"}),
    dict(file="bw-1820", acct=ACCT_B, region=AW, t="2019-10-29T18:20:55Z", who=WEB_NODE, src="kms",
         name="Decrypt", ro=True, ip=IP_WEB, ua=UA_WEB, resources=kms_resource(KMS_KEY_B),
         req={"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
    dict(file="aw-2011", region=AW, t="2019-10-29T20:11:11Z", who=MATEO, src="ec2", name="StartInstances",
         ip=IP_MATEO, ua=UA_MATEO, req={"instancesSet": {"items": [{"instanceId": "i-07d2b1a0c9e8f7a6b"}]}},
         resp={"requestId": uid("request", "start-instances"),
               "instancesSet": {"items": [{"instanceId": "i-07d2b1a0c9e8f7a6b",
                                           "currentState": {"code": 0, "name": "pending"},
                                           "previousState": {"code": 80, "name": "stopped"}}]}}),
    # delivered after midnight, so its folder is 2019/10/30; the last record is a late one
    dict(file="a1-2355", t="2019-10-29T23:51:36Z", who=U, src="sts", name="GetCallerIdentity",
         ip=IP_U, ua=UA_U, req=None),
    dict(file="a1-2355", t="2019-10-29T23:55:48Z", who=OPS, src="cloudtrail", name="DescribeTrails",
         ip=IP_OPS, ua=UA_OPS, req={"trailNameList": [TRAIL_A]}),
    dict(file="a1-2355", t="2019-10-29T22:10:07Z", who=U, src="s3", name="ListBuckets",
         ip=IP_U, ua=UA_U, req={"Host": "s3.amazonaws.com"}, additional=s3_extra("list-buckets-late"),
         tag="late-delivery",
         addendum={"reason": "DELIVERY_DELAY", "updatedFields": "", "originalRequestID": "", "originalEventID": ""}),

    # ---- 2019-10-30, just after midnight ------------------------------------------------------
    dict(file="aw-0012", region=AW, t="2019-10-30T00:12:09Z", who=MATEO, src="ec2", name="TerminateInstances",
         ip=IP_MATEO, ua=UA_MATEO, req={"instancesSet": {"items": [{"instanceId": "i-07d2b1a0c9e8f7a6b"}]}},
         tag="day-after", err=("Client.UnauthorizedOperation", ec2_unauthorized("terminate-0012"))),
    dict(file="aw-0012", region=AW, t="2019-10-30T00:12:40Z", who=MATEO, src="ec2", name="DescribeInstances",
         ip=IP_MATEO, ua=UA_MATEO, req={"instancesSet": {"items": [{"instanceId": "i-07d2b1a0c9e8f7a6b"}]},
                                        "filterSet": {}}),
    dict(file="b1-0031", acct=ACCT_B, t="2019-10-30T00:31:25Z", who=ANALYST, src="iam", name="ListUsers",
         ip=IP_ANALYST, ua=UA_ANALYST, req=None),
    dict(file="be-0044", acct=ACCT_B, region=AE, t="2019-10-30T00:44:58Z", who=deployer(44, "2019-10-30T00:44:10Z"),
         src="logs", name="CreateLogGroup", ip=IP_CI, ua=UA_CI, req={"logGroupName": "/acme/report-builder"}),
    dict(file="ae-0058", region=AE, t="2019-10-30T00:58:30Z", who=lambda_role("2019-10-30T00:55:00Z"),
         src="logs", name="CreateLogStream", ip=IP_LAMBDA, ua=UA_LAMBDA,
         req={"logGroupName": "/aws/lambda/app-handler",
              "logStreamName": "2019/10/30/[$LATEST]9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"}),

    # ---- one denial of each remaining cause, for `ctq explain` -------------------------------
    dict(file="a1-0020", t="2019-10-30T00:20:14Z", who=GH, src="s3", name="DeleteBucket", ip=IP_GH, ua=UA_GH,
         req={"bucketName": "acme-legacy-assets", "Host": "acme-legacy-assets.s3.amazonaws.com"},
         resources=[{"accountId": ACCT_A, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::acme-legacy-assets"}],
         tag="cause-boundary",
         err=("AccessDenied", not_authorized(
             GH["arn"], "s3:DeleteBucket", "arn:aws:s3:::acme-legacy-assets",
             "with an explicit deny in a permissions boundary"))),
    dict(file="a1-0020", t="2019-10-30T00:21:40Z", who=JANE, src="ec2", name="DescribeVpcs", ip=IP_JANE,
         ua="console.amazonaws.com", req={"vpcSet": {}, "filterSet": {}}, console=True, tag="cause-console-noise",
         err=("Client.UnauthorizedOperation", "You are not authorized to perform this operation. User: "
              + JANE["arn"] + " is not authorized to perform: ec2:DescribeVpcs because no identity-based policy "
              "allows the ec2:DescribeVpcs action")),
    SESSION_POLICY_DENIAL,
    dict(file="b1-0036", acct=ACCT_B, t="2019-10-30T00:36:30Z", who=ANALYST, src="sts", name="AssumeRole",
         ro=True, ip=IP_ANALYST, ua=UA_ANALYST, tag="cause-trust-policy",
         req={"roleArn": f"arn:aws:iam::{ACCT_A}:role/CrossAccountAudit", "roleSessionName": "audit"},
         err=("AccessDenied", not_authorized(
             ANALYST["arn"], "sts:AssumeRole", f"arn:aws:iam::{ACCT_A}:role/CrossAccountAudit",
             "because no role trust policy allows the sts:AssumeRole action"))),
    dict(file="b1-0036", acct=ACCT_B, t="2019-10-30T00:37:10Z", who=deployer(45, "2019-10-30T00:34:20Z"),
         src="s3", name="PutObject", ro=False, category="Data", ip="10.20.3.15", ua=f"[{UA_CI}]",
         req={"bucketName": "prod-artifacts", "key": "build/report.zip", "Host": "prod-artifacts.s3.amazonaws.com"},
         additional=s3_extra("put-45"), resources=s3_object("prod-artifacts", "build/report.zip", ACCT_B),
         vpce="vpce-0a1b2c3d4e5f67890", tag="cause-vpce-transitive",
         err=("AccessDenied", not_authorized(
             deployer(45, "2019-10-30T00:34:20Z")["arn"], "s3:PutObject",
             "arn:aws:s3:::prod-artifacts/build/report.zip",
             "with an explicit deny in a VPC endpoint policy transitively through a service control policy"))),
    # CloudTrail delivered the session-policy denial twice: same eventID and requestID
    dict(SESSION_POLICY_DENIAL, file="b1-0049", tag="duplicate-delivery"),
]

READ_ONLY_PREFIXES = ("Get", "List", "Describe", "Lookup", "Head")


# --------------------------------------------------------------------------------------------
# records and files

def parse_time(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def build_record(ev, n):
    """Turn one table entry (the n-th, 1-based) into a CloudTrail record with AWS's key order."""
    src = ev["src"] if "." in ev["src"] else f"{ev['src']}.amazonaws.com"
    data = ev.get("category") == "Data"
    shared = ev.get("shared")
    f = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": ev["who"],
        "eventTime": ev["t"],
        "eventSource": src,
        "eventName": ev["name"],
        "awsRegion": ev.get("region", A1),
        "sourceIPAddress": ev["ip"],
        "userAgent": ev["ua"],
        "requestParameters": ev.get("req"),
        "responseElements": ev.get("resp"),
        "additionalEventData": ev.get("additional"),
        "requestID": ev.get("rid") or (uid("request", shared) if shared else uid("request", n)),
        "eventID": ev.get("eid") or uid("event", n),
        "readOnly": ev.get("ro", ev["name"].startswith(READ_ONLY_PREFIXES)),
        "resources": ev.get("resources"),
        "eventType": ev.get("etype", "AwsApiCall"),
        "apiVersion": ev.get("api"),
        "managementEvent": not data,
        "recipientAccountId": ev.get("acct", ACCT_A),
        "sharedEventID": uid("shared", shared) if shared else None,
        "vpcEndpointId": ev.get("vpce"),
        "eventCategory": "Data" if data else "Management",
        "addendum": ev.get("addendum"),
        "tlsDetails": ev.get("tls"),
        "sessionCredentialFromConsole": "true" if ev.get("console") else None,
    }
    if "err" in ev:
        f["errorCode"], f["errorMessage"] = ev["err"]
    return {k: f[k] for k in KEY_ORDER if k in f and (f[k] is not None or k in ALWAYS)}


def gzip_bytes(payload):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as gz:
        gz.write(payload)
    return buf.getvalue()


def write_json_gz(path, obj):
    payload = json.dumps(obj, separators=(",", ":")).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip_bytes(payload))
    return payload


def account_prefix(acct):
    return f"AWSLogs/{ORG_ID}/{acct}" if acct == ACCT_B else f"AWSLogs/{acct}"


def delivery_time(label, newest):
    """5-15 minutes after the newest record, on a whole minute, chosen by a hash of the label."""
    delay = 6 + _digest("delay", label)[0] % 10
    t = newest + timedelta(minutes=delay)
    return t.replace(second=0)


def write_event_files():
    groups = OrderedDict()
    for n, ev in enumerate(EVENTS, start=1):
        groups.setdefault(ev["file"], []).append((ev, build_record(ev, n)))
    files = []
    for label, items in groups.items():
        accts = {ev.get("acct", ACCT_A) for ev, _ in items}
        regions = {ev.get("region", A1) for ev, _ in items}
        assert len(accts) == 1 and len(regions) == 1, label
        assert 1 <= len(items) <= 6, label
        acct, region = accts.pop(), regions.pop()
        times = [parse_time(r["eventTime"]) for _, r in items]
        delivered = delivery_time(label, max(times))
        stamp = delivered.strftime("%Y%m%dT%H%MZ")
        folder = f"{account_prefix(acct)}/CloudTrail/{region}/{delivered:%Y/%m/%d}"
        stem = f"{acct}_CloudTrail_{region}_{stamp}"
        key = f"{folder}/{stem}_{alnum(16, folder, stem, label)}.json.gz"
        payload = write_json_gz(ROOT / key, {"Records": [r for _, r in items]})
        files.append(dict(label=label, key=key, acct=acct, region=region, delivered=delivered,
                          payload=payload, oldest=min(times), newest=max(times), count=len(items)))
    keys = [f["key"] for f in files]
    assert len(set(keys)) == len(keys)
    return files


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_digest(files):
    """Hourly digest for account A, us-east-1, 06:00-07:00: lists the log files delivered then."""
    start, end = parse_time("2019-10-29T06:00:00Z"), parse_time("2019-10-29T07:00:00Z")
    folder = f"AWSLogs/{ACCT_A}/CloudTrail-Digest/us-east-1/2019/10/29"
    name = f"{ACCT_A}_CloudTrail-Digest_us-east-1_{TRAIL_A}_us-east-1_{end:%Y%m%dT%H%M%SZ}.json.gz"
    prev = f"{folder}/{ACCT_A}_CloudTrail-Digest_us-east-1_{TRAIL_A}_us-east-1_{start:%Y%m%dT%H%M%SZ}.json.gz"
    listed = [f for f in files if f["acct"] == ACCT_A and f["region"] == "us-east-1"
              and start <= f["delivered"] < end]
    log_files = [{"s3Bucket": BUCKET, "s3Object": f["key"],
                  "hashValue": hashlib.sha256(f["payload"]).hexdigest(), "hashAlgorithm": "SHA-256",
                  "newestEventTime": iso(f["newest"]), "oldestEventTime": iso(f["oldest"])}
                 for f in listed]
    digest = {
        "awsAccountId": ACCT_A,
        "digestStartTime": iso(start),
        "digestEndTime": iso(end),
        "digestS3Bucket": BUCKET,
        "digestS3Object": f"{folder}/{name}",
        "newestEventTime": iso(max(f["newest"] for f in listed)),
        "oldestEventTime": iso(min(f["oldest"] for f in listed)),
        "previousDigestS3Bucket": BUCKET,
        "previousDigestS3Object": prev,
        "previousDigestHashValue": hashlib.sha256(prev.encode()).hexdigest(),
        "previousDigestHashAlgorithm": "SHA-256",
        "previousDigestSignature": b"".join(_digest("sig", prev, str(i)) for i in range(4)).hex(),
        "digestPublicKeyFingerprint": hashlib.md5(b"ctq-sample-digest-key").hexdigest(),
        "digestSignatureAlgorithm": "SHA256withRSA",
        "logFiles": log_files,
    }
    write_json_gz(ROOT / folder / name, digest)
    return f"{folder}/{name}", len(log_files)


def write_insight():
    """One Insights event (error-rate insight on LookupEvents); readers must skip this folder."""
    folder = f"AWSLogs/{ACCT_A}/CloudTrail-Insight/us-east-1/2019/10/29"
    stem = f"{ACCT_A}_CloudTrail-Insight_us-east-1_20191029T0712Z"
    key = f"{folder}/{stem}_{alnum(16, folder, stem)}.json.gz"
    record = {
        "eventVersion": "1.08",
        "eventTime": "2019-10-29T06:41:00Z",
        "awsRegion": "us-east-1",
        "eventID": uid("insight", 1),
        "eventType": "AwsCloudTrailInsight",
        "recipientAccountId": ACCT_A,
        "sharedEventID": uid("insight-shared", 1),
        "insightDetails": {
            "state": "Start",
            "eventSource": "cloudtrail.amazonaws.com",
            "eventName": "LookupEvents",
            "insightType": "ApiErrorRateInsight",
            "errorCode": "AccessDenied",
            "insightContext": {
                "statistics": {"baseline": {"average": 0.0}, "insight": {"average": 0.5}},
                "attributions": [
                    {"attribute": "userIdentityArn", "insight": [{"value": U_ARN, "average": 0.5}],
                     "baseline": []},
                    {"attribute": "userAgent", "insight": [{"value": UA_U, "average": 0.5}], "baseline": []},
                    {"attribute": "errorCode", "insight": [{"value": "AccessDenied", "average": 0.5}],
                     "baseline": []},
                ],
            },
        },
        "eventCategory": "Insight",
    }
    write_json_gz(ROOT / key, {"Records": [record]})
    return key


# --------------------------------------------------------------------------------------------
# counting (done on the written files, the way a reader would)

DENIAL = re.compile(r"accessdenied|unauthorized", re.IGNORECASE)

REFERENCE_SQL = f"""SELECT from_iso8601_timestamp(eventTime) AS "Time", useridentity.arn AS "Identity ARN", eventID AS "Event ID",
         eventsource AS "Service", eventname AS "Action", errorCode AS "Error", errorMessage AS "Message"
FROM cloudtrail
WHERE from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp('{WINDOW[0]}')
        AND from_iso8601_timestamp(eventtime) < from_iso8601_timestamp('{WINDOW[1]}')
        AND userIdentity.arn = '{U_ARN}'
        AND eventType = 'AwsApiCall'
        AND errorCode is not null
        AND (lower(errorCode) LIKE '%accessdenied%' OR lower(errorCode) LIKE '%unauthorized%')
ORDER BY eventTime desc"""

FILTERS = {
    "window": lambda r: WINDOW[0] <= r["eventTime"] < WINDOW[1],
    "arn": lambda r: r["userIdentity"].get("arn") == U_ARN,
    "eventType": lambda r: r["eventType"] == "AwsApiCall",
    "notNull": lambda r: r.get("errorCode") is not None,
    "like": lambda r: r.get("errorCode") is not None and DENIAL.search(r["errorCode"]) is not None,
}


def query(records, drop=()):
    rows = [r for r in records if all(f(r) for name, f in FILTERS.items() if name not in drop)]
    return sorted(rows, key=lambda r: r["eventTime"], reverse=True)


def read_event_records():
    files = sorted(p for p in (ROOT / "AWSLogs").rglob("*.json.gz") if "CloudTrail" in p.parts)
    records = []
    for p in files:
        with gzip.open(p, "rt") as fh:
            records.extend(json.load(fh)["Records"])
    return files, records


def compute_counts():
    files, records = read_event_records()
    per_acct = Counter(r["recipientAccountId"] for r in records)
    denials = [r for r in records if r.get("errorCode") and DENIAL.search(r["errorCode"])]
    ids = [r["eventID"] for r in records]
    # One designed duplicate delivery; every other eventID is unique.
    assert len(set(ids)) == len(ids) - 1, "eventIDs must be unique but for the duplicate delivery"
    return {
        "files": len(files),
        "records": len(records),
        "per_acct": per_acct,
        "denials": len(denials),
        "reference": query(records),
        "drop": {
            "userIdentity.arn line": query(records, {"arn"}),
            "errorCode LIKE line": query(records, {"like"}),
            "eventType line": query(records, {"eventType"}),
            "both eventtime lines": query(records, {"window"}),
        },
        "days": sorted({"/".join(p.parts[-4:-1]) for p in files}),
    }


# --------------------------------------------------------------------------------------------
# README

def designed_rows():
    rows = []
    for ev in EVENTS:
        if not ev.get("tag"):
            continue
        who = ev["who"].get("arn") or ev["who"].get("invokedBy")
        code = ev["err"][0] if "err" in ev else "(none)"
        rows.append((ev["t"], ev.get("acct", ACCT_A), ev.get("region", A1), who,
                     f"{ev['src']}:{ev['name']}", code, ev.get("etype", "AwsApiCall"), ev["tag"]))
    return sorted(rows)


WHY = {
    "article": "**returned** (the two rows of the AWS article)",
    "edge-before": "excluded: one second before the inclusive start",
    "edge-after": "excluded: exactly at the exclusive end",
    "not-a-denial": "excluded by the errorCode LIKE line only",
    "success": "excluded: errorCode is null (the `is not null` line)",
    "service-event": "excluded by the eventType line only",
    "other-principal": "excluded by the userIdentity.arn line only",
    "other-principal-throttled": "excluded by the userIdentity.arn and LIKE lines",
    "other-principal-not-a-denial": "excluded by the userIdentity.arn and LIKE lines",
    "service-principal": "excluded by the userIdentity.arn line only (it has no arn; empty errorMessage)",
    "day-before-1": "excluded by the window only",
    "day-before-2": "excluded by the window only",
    "day-after": "excluded by the window and userIdentity.arn lines",
    "late-delivery": "outside the window; delivered late (addendum DELIVERY_DELAY) in a 2019/10/30 file",
    "cause-boundary": "outside the window; `ctq explain`: explicit deny in a permissions boundary",
    "cause-console-noise": "outside the window; `ctq explain --exclude-noise` leaves out this console page load",
    "cause-session-policy": "outside the window; `ctq explain`: no session policy allows it",
    "cause-trust-policy": "outside the window; `ctq explain`: the role's trust policy does not allow the caller",
    "cause-vpce-transitive": "outside the window; `ctq explain`: VPC endpoint policy through an SCP",
    "duplicate-delivery": "outside the window; the session-policy denial delivered again (same eventID)",
}


def write_readme(c, digest_key, digest_count, insight_key):
    a, b = c["per_acct"][ACCT_A], c["per_acct"][ACCT_B]
    lines = [
        "# sample-logs",
        "",
        "A small, hand-written CloudTrail trail for ctq's tests and demo. Generated by",
        "`scripts/make-sample-logs.py`; do not edit by hand, rerun the script (its output is byte-identical",
        "from run to run). No record comes from real data.",
        "",
        "## Layout",
        "",
        "```",
        f"AWSLogs/{ACCT_A}/CloudTrail/<region>/YYYY/MM/DD/{ACCT_A}_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16>.json.gz",
        f"AWSLogs/{ORG_ID}/{ACCT_B}/CloudTrail/<region>/YYYY/MM/DD/...     (organization trail)",
        f"AWSLogs/{ACCT_A}/CloudTrail-Digest/us-east-1/2019/10/29/...         (digest: not events, skip)",
        f"AWSLogs/{ACCT_A}/CloudTrail-Insight/us-east-1/2019/10/29/...        (Insights event: skip)",
        "```",
        "",
        f"- Accounts: A = {ACCT_A} (own trail `{TRAIL_A}`), B = {ACCT_B} (organization trail of {ORG_ID}).",
        "- Regions us-east-1, eu-west-1, us-west-2; day folders " + ", ".join(c["days"]) + ".",
        "- Each event file is one gzip member holding `{\"Records\":[...]}` (compact JSON, AWS key order),",
        "  1-6 records, grouped by account, region and a 5-15 minute delivery interval. The time in the name",
        "  is the delivery time, 5-15 minutes after the newest record; the folder date is the delivery date.",
        "  Records inside a file are not always in time order.",
        f"- The digest file lists the {digest_count} account-A us-east-1 event files delivered between 06:00",
        "  and 07:00 (hashValue = SHA-256 of the uncompressed JSON):",
        f"  `{digest_key.rsplit('/', 1)[1]}`.",
        "- The Insights file holds one `AwsCloudTrailInsight` record (eventCategory Insight, no userIdentity):",
        f"  `{insight_key.rsplit('/', 1)[1]}`.",
        "",
        "## Reference query",
        "",
        "The query of the AWS article (seed 002), over all event files:",
        "",
        "```sql",
        REFERENCE_SQL,
        "```",
        "",
        "| Time | Event ID | Service | Action | Error | Message |",
        "|---|---|---|---|---|---|",
    ]
    for r in c["reference"]:
        lines.append(f"| {r['eventTime']} | {r['eventID']} | {r['eventSource']} | {r['eventName']} | "
                     f"{r['errorCode']} | {r['errorMessage']} |")
    lines += [
        "",
        "## Designed events",
        "",
        f"U = `{U_ARN}`. Records not listed here are successful background calls spread over",
        "2019-10-28 23:00Z .. 2019-10-30 01:00Z in both accounts and all three regions.",
        "",
        "| eventTime | account | region | principal | call | errorCode | eventType | reference query |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t, acct, region, who, call, code, etype, tag in designed_rows():
        lines.append(f"| {t} | {acct} | {region} | `{who}` | {call} | {code} | {etype} | {WHY[tag]} |")
    lines += [
        "",
        "Dropping one filter of the reference query:",
        "",
        "| line dropped | rows | their eventTimes |",
        "|---|---|---|",
    ]
    for name, rows in c["drop"].items():
        times = ", ".join(r["eventTime"] for r in rows)
        lines.append(f"| {name} | {len(rows)} | {times} |")
    lines += [
        "",
        "## Counts",
        "",
        "| what | count |",
        "|---|---|",
        f"| event files (`CloudTrail/` folders only) | {c['files']} |",
        f"| records | {c['records']} |",
        f"| records, account {ACCT_A} | {a} |",
        f"| records, account {ACCT_B} | {b} |",
        f"| denials (errorCode matches `accessdenied` or `unauthorized`, any case) | {c['denials']} |",
        f"| rows of the reference query | {len(c['reference'])} |",
        "",
        "## Other things worth knowing",
        "",
        "- The AWSService record (config.amazonaws.com) has no `userIdentity.arn`, only `invokedBy`, and an",
        "  empty `errorMessage`.",
        "- A cross-account AssumeRole at 04:10:00 by `ops` is recorded in both accounts with the same",
        "  requestID and sharedEventID; B's copy names the caller as `type` `AWSAccount` (no arn).",
        "- The S3 data events (account B) have `eventCategory` Data and `managementEvent` false; one of them",
        "  went through a VPC endpoint (`vpcEndpointId`).",
        "- A GitHub Actions OIDC login: `AssumeRoleWithWebIdentity` by a `WebIdentityUser`, then Lambda",
        "  calls by the resulting session, whose `sessionContext.webIdFederationData` is filled in.",
        "- One console session event has `sessionCredentialFromConsole` \"true\"; one S3 call has `tlsDetails`;",
        "  one EC2 instance-role session has `ec2RoleDelivery`.",
        "",
    ]
    (ROOT / "README.md").write_text("\n".join(lines))


# --------------------------------------------------------------------------------------------

def main():
    if ROOT.exists():
        shutil.rmtree(ROOT)
    ROOT.mkdir(parents=True)
    files = write_event_files()
    digest_key, digest_count = write_digest(files)
    insight_key = write_insight()
    c = compute_counts()
    write_readme(c, digest_key, digest_count, insight_key)

    print(f"wrote {ROOT}")
    print(f"event files:            {c['files']}")
    print(f"records:                {c['records']}")
    for acct in (ACCT_A, ACCT_B):
        print(f"records in {acct}:  {c['per_acct'][acct]}")
    print(f"denials:                {c['denials']}")
    print(f"reference query rows:   {len(c['reference'])}")
    for r in c["reference"]:
        print(f"  {r['eventTime']}  {r['eventID']}  {r['errorCode']}")
    for name, rows in c["drop"].items():
        print(f"dropping the {name}: {len(rows)} rows")
    print(f"digest lists {digest_count} files; insight file {insight_key}")


if __name__ == "__main__":
    main()
