-- Bucket guessing: one principal's S3 calls are denied, or find no bucket, over many distinct
-- bucket names within an hour, as a scanner walks a word list of names.
--
-- id: bucket-guessing
-- severity: medium
-- source: Elastic "AWS S3 bucket enumeration or brute force"; S3Scanner, cloud_enum and Pacu s3__bucket_finder
-- false positives: a backup or replication job pointed at buckets that were renamed or deleted; it retries the same names every run, a scanner does not.
-- next: Compare the bucket names with your own: guessed names (company name plus -backup, -dev, -logs) mean a scanner with this principal's credentials; revoke them.
-- Parameters:
--   $window_minutes  60  length of the window, minutes
--   $min_buckets     10  distinct buckets denied or not found in that window
WITH p AS (
  SELECT CAST($window_minutes AS BIGINT) * 60 AS window_s,
         CAST($min_buckets AS BIGINT) AS min_buckets
),
misses AS (
  SELECT e.principal, h.half, (e.event_s + h.half * p.window_s / 2) / p.window_s AS slot,
         e.event_id, e.bucket, e.error_code
  FROM hunt_events e CROSS JOIN p CROSS JOIN (VALUES (0), (1)) AS h(half)
  WHERE e.principal IS NOT NULL AND e.event_source = 's3.amazonaws.com'
    AND e.bucket IS NOT NULL AND (e.denied OR e.error_code = 'NoSuchBucket')
),
-- The windows with enough names, found first: the lists and distinct counts below are built
-- for them alone, not for every window of every principal.
guessing AS (
  SELECT principal, half, slot
  FROM (SELECT DISTINCT principal, half, slot, bucket FROM misses) names
  GROUP BY principal, half, slot
  HAVING count(*) >= (SELECT min_buckets FROM p)
)
SELECT m.principal,
       array_agg(m.event_id) AS event_ids,
       concat(count(DISTINCT m.bucket), ' buckets: ',
              count(DISTINCT CASE WHEN m.error_code = 'NoSuchBucket' THEN m.bucket END),
              ' do not exist, the others denied') AS detail
FROM guessing g
JOIN misses m ON m.principal = g.principal AND m.half = g.half AND m.slot = g.slot
GROUP BY m.principal, m.half, m.slot
