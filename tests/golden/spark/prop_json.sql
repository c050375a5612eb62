SELECT
  _e.`user_id` AS `entity_id`,
  FALSE AS `holdout`
FROM `main`.`users` AS _e
WHERE
  (
    NOT _e.`user_id` IS NULL
    AND (
      _e.`signup_at` IS NULL OR _e.`signup_at` <= CURRENT_TIMESTAMP()
    )
  )
  AND (
    GET_JSON_OBJECT(_e.`traits`, '$.address.city') = 'Berlin'
    AND CASE
      WHEN GET_JSON_OBJECT(_e.`traits`, '$.size') RLIKE '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'
      THEN CAST(GET_JSON_OBJECT(_e.`traits`, '$.size') AS DOUBLE)
    END >= 50
    AND CASE
      WHEN GET_JSON_OBJECT(_e.`traits`, '$.newsletter') = 'true'
      THEN TRUE
      WHEN GET_JSON_OBJECT(_e.`traits`, '$.newsletter') = 'false'
      THEN FALSE
    END = TRUE
  )
