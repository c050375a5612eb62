SELECT
  e.`user_id` AS `entity_id`,
  FALSE AS `holdout`
FROM `Analytics`.`Users` AS e
WHERE
  NOT e.`user_id` IS NULL AND e.`plan` = 'pro'
