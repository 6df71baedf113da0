-- CreateEnum
CREATE TYPE "TrustCallerType" AS ENUM ('user', 'token', 'role');

-- CreateEnum
CREATE TYPE "TrustTargetType" AS ENUM ('agent', 'agent_glob', 'project');

-- CreateTable
CREATE TABLE "api_token" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "scopes" TEXT[],
    "projectIds" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "expiresAt" TIMESTAMP(3),
    "lastUsedAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),
    "rotatedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "api_token_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "trust_grant" (
    "id" TEXT NOT NULL,
    "projectId" TEXT NOT NULL,
    "callerType" "TrustCallerType" NOT NULL,
    "callerId" TEXT NOT NULL,
    "targetType" "TrustTargetType" NOT NULL,
    "target" TEXT NOT NULL,
    "inspect" BOOLEAN NOT NULL DEFAULT false,
    "start" BOOLEAN NOT NULL DEFAULT false,
    "stop" BOOLEAN NOT NULL DEFAULT false,
    "restart" BOOLEAN NOT NULL DEFAULT false,
    "remove" BOOLEAN NOT NULL DEFAULT false,
    "chat" BOOLEAN NOT NULL DEFAULT false,
    "logs" BOOLEAN NOT NULL DEFAULT false,
    "stats" BOOLEAN NOT NULL DEFAULT false,
    "updateEnv" BOOLEAN NOT NULL DEFAULT false,
    "updateImage" BOOLEAN NOT NULL DEFAULT false,
    "fileReadPaths" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "fileWritePaths" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "allowedImages" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "expiresAt" TIMESTAMP(3),
    "description" TEXT NOT NULL DEFAULT '',
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "trust_grant_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_event" (
    "id" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "userId" TEXT,
    "userEmail" TEXT,
    "tokenId" TEXT,
    "tokenPrefix" TEXT,
    "action" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "permission" TEXT,
    "projectId" TEXT,
    "agentId" TEXT,
    "agentName" TEXT,
    "filePath" TEXT,
    "image" TEXT,
    "allowed" BOOLEAN NOT NULL,
    "reason" TEXT NOT NULL,
    "grantId" TEXT,
    "outcome" TEXT NOT NULL,
    "requestId" TEXT NOT NULL,
    "ip" TEXT,
    "userAgent" TEXT,
    "input" JSONB,

    CONSTRAINT "audit_event_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_token_prefix_key" ON "api_token"("prefix");

-- CreateIndex
CREATE INDEX "api_token_userId_idx" ON "api_token"("userId");

-- CreateIndex
CREATE INDEX "trust_grant_projectId_idx" ON "trust_grant"("projectId");

-- CreateIndex
CREATE UNIQUE INDEX "trust_grant_projectId_callerType_callerId_targetType_target_key" ON "trust_grant"("projectId", "callerType", "callerId", "targetType", "target");

-- CreateIndex
CREATE INDEX "audit_event_projectId_at_idx" ON "audit_event"("projectId", "at");

-- CreateIndex
CREATE INDEX "audit_event_at_idx" ON "audit_event"("at");

-- AddForeignKey
ALTER TABLE "api_token" ADD CONSTRAINT "api_token_userId_fkey" FOREIGN KEY ("userId") REFERENCES "user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "trust_grant" ADD CONSTRAINT "trust_grant_projectId_fkey" FOREIGN KEY ("projectId") REFERENCES "project"("id") ON DELETE CASCADE ON UPDATE CASCADE;
