"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { Check, Copy, MailPlus, X } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { FormError } from "@/components/auth/form-error";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { roleLabel } from "@/components/projects/role-badge";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import type { AppRouter } from "@/server/api/root";
import { PROJECT_ROLES, roleAtLeast, type ProjectRole } from "@/server/domain/roles";
import { fullTime, NativeSelect, relative } from "./controls";

type Invitation = inferRouterOutputs<AppRouter>["invitation"]["list"][number];

const EXPIRY_DAYS = [1, 7, 14, 30] as const;

/**
 * Invitations to the project (owners and the instance admin): a link for one person, single use,
 * expiring, optionally for one email address. The link is shown once, right after creating it.
 */
export function InvitationsSection({ projectId, myRole }: { projectId: string; myRole: ProjectRole }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // Refreshed now and then: an invitation gets used by someone else.
  const invitations = useQuery({ ...trpc.invitation.list.queryOptions({ projectId }), refetchInterval: 15_000 });
  const assignable = PROJECT_ROLES.filter((r) => (r === "owner" ? myRole === "owner" : roleAtLeast(myRole, r)));
  const [role, setRole] = useState<ProjectRole>("viewer");
  const [email, setEmail] = useState("");
  const [days, setDays] = useState<number>(7);
  const [error, setError] = useState<string | null>(null);
  const [link, setLink] = useState<{ url: string; role: ProjectRole; email: string | null } | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.invitation.list.queryKey({ projectId }) });

  const create = useMutation(
    trpc.invitation.create.mutationOptions({
      onSuccess: async (res) => {
        setEmail("");
        await refresh();
        setLink({ url: `${window.location.origin}${res.link}`, role: res.invitation.role, email: res.invitation.email });
      },
      onError: (err) => setError(errorMessage(err)),
    }),
  );
  const revoke = useMutation(
    trpc.invitation.revoke.mutationOptions({
      onSuccess: async () => {
        await refresh();
        toast.success("Invitation revoked");
      },
      onError: (err) => toast.error("Could not revoke the invitation", { description: errorMessage(err) }),
    }),
  );

  const pending = invitations.data?.filter((i) => i.state === "pending") ?? [];
  const done = invitations.data?.filter((i) => i.state !== "pending") ?? [];

  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h3>Invitations</h3>
        </CardTitle>
        <CardDescription>
          A link that lets one person create an account (or, if they have one, join) with the role you pick. It works once and
          expires.
        </CardDescription>
      </CardHeader>
      <CardContent className="flex flex-col gap-4">
        <form
          className="flex flex-wrap items-end gap-2"
          aria-label="New invitation"
          onSubmit={(e) => {
            e.preventDefault();
            setError(null);
            create.mutate({ projectId, role, email: email.trim() || null, expiresInDays: days });
          }}
        >
          <div className="flex flex-col gap-1.5">
            <label htmlFor="invite-role" className="text-xs font-medium">Role</label>
            <NativeSelect id="invite-role" className="w-36" value={role} onChange={(e) => setRole(e.target.value as ProjectRole)}>
              {assignable.map((r) => (
                <option key={r} value={r}>{roleLabel(r)}</option>
              ))}
            </NativeSelect>
          </div>
          <div className="flex min-w-52 flex-1 flex-col gap-1.5">
            <label htmlFor="invite-email" className="text-xs font-medium">Only for this email (optional)</label>
            <Input id="invite-email" type="email" placeholder="anyone with the link" value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="off" />
          </div>
          <div className="flex flex-col gap-1.5">
            <label htmlFor="invite-expiry" className="text-xs font-medium">Expires in</label>
            <NativeSelect id="invite-expiry" className="w-28" value={String(days)} onChange={(e) => setDays(Number(e.target.value))}>
              {EXPIRY_DAYS.map((d) => (
                <option key={d} value={d}>{d === 1 ? "1 day" : `${d} days`}</option>
              ))}
            </NativeSelect>
          </div>
          <Button type="submit" disabled={create.isPending}>
            <MailPlus aria-hidden="true" />
            {create.isPending ? "Creating…" : "Create link"}
          </Button>
        </form>
        <FormError message={error} />

        {invitations.isPending ? (
          <Skeleton className="h-12 w-full" />
        ) : invitations.isError ? (
          <QueryErrorAlert title="Could not load the invitations" error={invitations.error} onRetry={() => void invitations.refetch()} />
        ) : pending.length === 0 && done.length === 0 ? (
          <p className="text-muted-foreground text-sm">No invitations yet.</p>
        ) : (
          <ul className="divide-y rounded-md border" aria-label="Invitations">
            {[...pending, ...done].map((i) => (
              <InvitationRow key={i.id} invitation={i} onRevoke={() => revoke.mutate({ projectId, invitationId: i.id })} revoking={revoke.isPending} />
            ))}
          </ul>
        )}
      </CardContent>
      <LinkDialog link={link} onClose={() => setLink(null)} />
    </Card>
  );
}

function StateBadge({ invitation: i }: { invitation: Invitation }) {
  if (i.state === "pending") return <Badge variant="outline" className="border-emerald-500/30 bg-emerald-500/10 text-emerald-700 dark:text-emerald-300">Pending</Badge>;
  if (i.state === "used") return <Badge variant="secondary">Used</Badge>;
  if (i.state === "revoked") return <Badge variant="outline" className="border-destructive/40 text-destructive">Revoked</Badge>;
  return <Badge variant="outline" className="text-muted-foreground">Expired</Badge>;
}

function InvitationRow({ invitation: i, onRevoke, revoking }: { invitation: Invitation; onRevoke: () => void; revoking: boolean }) {
  return (
    <li className="flex flex-wrap items-center gap-x-4 gap-y-1 px-3 py-2 text-sm" data-testid="invitation-row">
      <span className="font-medium">{roleLabel(i.role)}</span>
      <StateBadge invitation={i} />
      <span className="text-muted-foreground min-w-0 flex-1 truncate text-xs">
        {i.email ? `for ${i.email}` : "anyone with the link"}
        {" · "}created <span title={fullTime(i.createdAt)}>{relative(i.createdAt)}</span>
        {i.createdBy ? ` by ${i.createdBy.name || i.createdBy.email}` : ""}
        {" · "}
        {i.state === "used" && i.usedAt ? (
          <span title={fullTime(i.usedAt)}>
            used {relative(i.usedAt)}
            {i.usedBy ? ` by ${i.usedBy.email}` : ""}
          </span>
        ) : i.state === "revoked" && i.revokedAt ? (
          <span title={fullTime(i.revokedAt)}>revoked {relative(i.revokedAt)}</span>
        ) : (
          <span title={fullTime(i.expiresAt)}>{i.state === "expired" ? "expired" : "expires"} {relative(i.expiresAt)}</span>
        )}
      </span>
      {i.state === "pending" ? (
        <Button variant="ghost" size="sm" onClick={onRevoke} disabled={revoking} aria-label={`Revoke the ${roleLabel(i.role)} invitation`}>
          <X aria-hidden="true" />
          Revoke
        </Button>
      ) : null}
    </li>
  );
}

function LinkDialog({ link, onClose }: { link: { url: string; role: ProjectRole; email: string | null } | null; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  const close = () => {
    setCopied(false);
    onClose();
  };
  return (
    <Dialog open={!!link} onOpenChange={(o) => (o ? undefined : close())}>
      <DialogContent className="sm:max-w-lg">
        <DialogHeader>
          <DialogTitle>Copy the invitation link</DialogTitle>
          <DialogDescription>
            It lets {link?.email ?? "one person"} in as {link ? roleLabel(link.role).toLowerCase() : ""}. This is the only time Armory shows
            it: send it privately.
          </DialogDescription>
        </DialogHeader>
        <code aria-label="Invitation link" data-testid="invitation-link" className="bg-muted rounded-md p-3 font-mono text-xs break-all select-all">
          {link?.url}
        </code>
        <DialogFooter>
          <Button
            variant="outline"
            onClick={() => {
              if (!link) return;
              void navigator.clipboard?.writeText(link.url).then(() => setCopied(true), () => toast.error("Copy failed: select the text and copy it"));
            }}
          >
            {copied ? <Check aria-hidden="true" /> : <Copy aria-hidden="true" />}
            {copied ? "Copied" : "Copy"}
          </Button>
          <Button onClick={close}>Done</Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}
