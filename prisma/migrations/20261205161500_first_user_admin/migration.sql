-- Issue 12 (the instance door): on an instance that already has accounts, the first account
-- (the oldest) becomes the instance admin, as it would have on a fresh start. Data only.
UPDATE "user" SET "isAdmin" = true
WHERE "id" = (SELECT "id" FROM "user" ORDER BY "createdAt" ASC, "id" ASC LIMIT 1)
  AND NOT EXISTS (SELECT 1 FROM "user" WHERE "isAdmin" = true);
