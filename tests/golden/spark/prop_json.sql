SELECT
  e.`user_id` AS `entity_id`,
  FALSE AS `holdout`
FROM `main`.`users` AS e
WHERE
  (
    NOT e.`user_id` IS NULL
    AND (
      e.`signup_at` IS NULL OR e.`signup_at` <= CURRENT_TIMESTAMP()
    )
  )
  AND (
    GET_JSON_OBJECT(e.`traits`, '$.address.city') = 'Berlin'
    AND CASE
      WHEN GET_JSON_OBJECT(e.`traits`, '$.size') RLIKE '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'
      THEN CAST(GET_JSON_OBJECT(e.`traits`, '$.size') AS DOUBLE)
    END >= 50
    AND CASE
      WHEN GET_JSON_OBJECT(e.`traits`, '$.newsletter') = 'true'
      THEN TRUE
      WHEN GET_JSON_OBJECT(e.`traits`, '$.newsletter') = 'false'
      THEN FALSE
    END = TRUE
  )
