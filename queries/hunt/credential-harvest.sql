-- Credential harvesting: one principal is denied reads of stored credentials (EC2 Windows
-- passwords, instance user data, Secrets Manager secrets, SSM parameters) on many distinct
-- targets within minutes, as an attacker sweeps every instance and secret it can list.
--
-- id: credential-harvest
-- severity: high
-- source: Stratus Red Team aws.credential-access.ec2-get-password-data, ec2-get-user-data, secretsmanager-retrieve-secrets, ssm-retrieve-securestring-parameters; Panther AWS.EC2.GetPasswordData
-- false positives: an application that lost access to its secret retries the same one, which is one target, not many; a configuration audit tool reading user data of every instance without the right.
-- next: List the targets it tried (instance ids, secret names): a sweep across them is credential harvesting; revoke the caller's credentials and rotate any secret it did read.
-- Parameters:
--   $burst_minutes  10  length of a burst, in minutes
--   $min_targets    10  distinct instances, secrets or parameters whose read was denied
WITH p AS (
  SELECT CAST($burst_minutes AS BIGINT) * 60 AS burst_s,
         CAST($min_targets AS BIGINT) AS min_targets
),
reads AS (
  SELECT e.principal, h.half, (e.event_s + h.half * p.burst_s / 2) / p.burst_s AS slot,
         e.event_id, coalesce(e.target, e.event_id) AS target
  FROM hunt_events e CROSS JOIN p CROSS JOIN (VALUES (0), (1)) AS h(half)
  WHERE e.denied AND e.principal IS NOT NULL
    AND e.action IN ('ec2:GetPasswordData', 'ec2:DescribeInstanceAttribute',
                     'secretsmanager:GetSecretValue', 'secretsmanager:BatchGetSecretValue',
                     'ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath',
                     'lambda:GetFunctionConfiguration', 'ecs:DescribeTaskDefinition')
)
SELECT r.principal,
       array_agg(r.event_id) AS event_ids,
       concat(count(*), ' denied reads of stored credentials over ', count(DISTINCT r.target),
              ' targets within ', max(p.burst_s) / 60, ' minutes') AS detail
FROM reads r CROSS JOIN p
GROUP BY r.principal, r.half, r.slot
HAVING count(DISTINCT r.target) >= max(p.min_targets)
