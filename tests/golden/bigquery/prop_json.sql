SELECT
  _e.`user_id` AS `entity_id`,
  FALSE AS `holdout`
FROM `main`.`users` AS _e
WHERE
  (
    NOT _e.`user_id` IS NULL
    AND (
      _e.`signup_at` IS NULL OR _e.`signup_at` <= CURRENT_DATETIME('UTC')
    )
  )
  AND (
    JSON_EXTRACT_SCALAR(_e.`traits`, '$.address.city') = 'Berlin'
    AND SAFE_CAST(JSON_EXTRACT_SCALAR(_e.`traits`, '$.size') AS FLOAT64) >= 50
    AND CASE
      WHEN (
        JSON_EXTRACT_SCALAR(_e.`traits`, '$.newsletter')
      ) = 'true'
      THEN TRUE
      WHEN (
        JSON_EXTRACT_SCALAR(_e.`traits`, '$.newsletter')
      ) = 'false'
      THEN FALSE
    END = TRUE
  )
