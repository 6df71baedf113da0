-- CreateTable
CREATE TABLE "openai_user_session" (
    "id" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "ownerId" TEXT NOT NULL,
    "userKey" TEXT NOT NULL,
    "sessionId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "openai_user_session_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "openai_user_session_sessionId_idx" ON "openai_user_session"("sessionId");

-- CreateIndex
CREATE UNIQUE INDEX "openai_user_session_agentId_ownerId_userKey_key" ON "openai_user_session"("agentId", "ownerId", "userKey");

-- AddForeignKey
ALTER TABLE "openai_user_session" ADD CONSTRAINT "openai_user_session_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "chat_session"("id") ON DELETE CASCADE ON UPDATE CASCADE;
