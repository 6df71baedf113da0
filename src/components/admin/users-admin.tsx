"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { Ban, LogOut, Shield, ShieldOff, UserCheck } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { useNow } from "@/components/agents/use-now";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { roleLabel } from "@/components/projects/role-badge";
import { fullTime } from "@/components/trust/controls";
import {
  AlertDialog,
  AlertDialogAction,
  AlertDialogCancel,
  AlertDialogContent,
  AlertDialogDescription,
  AlertDialogFooter,
  AlertDialogHeader,
  AlertDialogTitle,
} from "@/components/ui/alert-dialog";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { timeAgo } from "@/lib/utils";
import type { AppRouter } from "@/server/api/root";

type User = inferRouterOutputs<AppRouter>["admin"]["users"][number];
type Confirm = { kind: "disable" | "revoke" | "demote"; user: User } | null;

/** Every account of the instance: last seen, projects, sessions, tokens; disable, sign out, promote. */
export function UsersAdmin({ meId }: { meId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // Live enough for "last seen" and session counts, without a stream per admin tab.
  const users = useQuery({ ...trpc.admin.users.queryOptions(), refetchInterval: 5_000 });
  const now = useNow();
  const [confirm, setConfirm] = useState<Confirm>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.admin.users.queryKey() });
  const onError = (what: string) => (err: unknown) => toast.error(`Could not ${what}`, { description: errorMessage(err) });

  const disable = useMutation(
    trpc.admin.disableUser.mutationOptions({
      onSuccess: async (r) => {
        await refresh();
        toast.success(`Account disabled; ${r.sessionsRevoked} session${r.sessionsRevoked === 1 ? "" : "s"} ended`);
      },
      onError: onError("disable the account"),
    }),
  );
  const enable = useMutation(trpc.admin.enableUser.mutationOptions({ onSuccess: () => refresh(), onError: onError("enable the account") }));
  const revoke = useMutation(
    trpc.admin.revokeSessions.mutationOptions({
      onSuccess: async (r) => {
        await refresh();
        toast.success(`${r.sessionsRevoked} session${r.sessionsRevoked === 1 ? "" : "s"} ended`);
      },
      onError: onError("revoke the sessions"),
    }),
  );
  const setAdmin = useMutation(trpc.admin.setAdmin.mutationOptions({ onSuccess: () => refresh(), onError: onError("change the admin role") }));

  if (users.isPending) {
    return (
      <div className="flex flex-col gap-2" aria-label="Loading users">
        <Skeleton className="h-12 w-full" />
        <Skeleton className="h-12 w-full" />
      </div>
    );
  }
  if (users.isError) return <QueryErrorAlert title="Could not load the users" error={users.error} onRetry={() => void users.refetch()} />;

  return (
    <div className="flex flex-col gap-3">
      <p className="text-muted-foreground text-sm">
        {users.data.length} account{users.data.length === 1 ? "" : "s"}. Disabling an account ends its sessions and refuses its
        machine tokens and live streams at once; enabling it again restores its tokens.
      </p>
      <div tabIndex={0} role="region" aria-label="Users table" className="focus-visible:ring-ring/50 outline-none relative overflow-x-auto rounded-md border focus-visible:ring-[3px]">
        <table className="w-full text-sm" aria-label="Users">
          <thead className="bg-muted/50 text-muted-foreground text-left text-xs">
            <tr>
              <th className="px-3 py-2 font-medium">User</th>
              <th className="px-3 py-2 font-medium">Projects</th>
              <th className="px-3 py-2 font-medium">Last seen</th>
              <th className="px-3 py-2 font-medium">Created</th>
              <th className="px-3 py-2 text-right font-medium">Sessions</th>
              <th className="px-3 py-2 text-right font-medium">Tokens</th>
              <th className="px-3 py-2 text-right font-medium">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody className="divide-y">
            {users.data.map((u) => {
              const me = u.id === meId;
              return (
                <tr key={u.id} data-testid="user-row" data-email={u.email} className={u.disabledAt ? "bg-muted/30" : undefined}>
                  <td className="px-3 py-2 align-top">
                    <div className="flex flex-wrap items-center gap-1.5">
                      <span className="font-medium">{u.name || u.email}</span>
                      {u.isAdmin ? <Badge variant="secondary">Admin</Badge> : null}
                      {u.disabledAt ? (
                        <Badge variant="outline" className="border-destructive/40 text-destructive" title={`Disabled ${fullTime(u.disabledAt)}`}>
                          Disabled
                        </Badge>
                      ) : null}
                      {me ? <Badge variant="outline">You</Badge> : null}
                    </div>
                    <div className="text-muted-foreground text-xs">{u.email}</div>
                  </td>
                  <td className="px-3 py-2 align-top text-xs">
                    {u.projects.length ? (
                      <ul className="flex flex-col gap-0.5">
                        {u.projects.map((p) => (
                          <li key={p.projectId}>
                            {p.name} <span className="text-muted-foreground">({roleLabel(p.role).toLowerCase()})</span>
                          </li>
                        ))}
                      </ul>
                    ) : (
                      <span className="text-muted-foreground">none</span>
                    )}
                  </td>
                  <td className="px-3 py-2 align-top text-xs whitespace-nowrap" data-testid="last-seen">
                    {u.lastSeenAt ? <span title={fullTime(u.lastSeenAt)}>{timeAgo(u.lastSeenAt, new Date(now))}</span> : <span className="text-muted-foreground">never</span>}
                  </td>
                  <td className="px-3 py-2 align-top text-xs whitespace-nowrap">
                    <span title={fullTime(u.createdAt)}>{timeAgo(u.createdAt, new Date(now))}</span>
                  </td>
                  <td className="px-3 py-2 text-right align-top tabular-nums">{u.activeSessions}</td>
                  <td className="px-3 py-2 text-right align-top tabular-nums">{u.activeTokens}</td>
                  <td className="px-3 py-2 align-top">
                    <div className="flex flex-wrap justify-end gap-1.5">
                      <Button variant="outline" size="sm" disabled={u.activeSessions === 0} onClick={() => setConfirm({ kind: "revoke", user: u })}>
                        <LogOut aria-hidden="true" />
                        Sign out
                      </Button>
                      {me ? null : u.disabledAt ? (
                        <Button variant="outline" size="sm" disabled={enable.isPending} onClick={() => enable.mutate({ userId: u.id })}>
                          <UserCheck aria-hidden="true" />
                          Enable
                        </Button>
                      ) : (
                        <Button variant="outline" size="sm" onClick={() => setConfirm({ kind: "disable", user: u })}>
                          <Ban aria-hidden="true" />
                          Disable
                        </Button>
                      )}
                      {me || u.disabledAt ? null : u.isAdmin ? (
                        <Button variant="ghost" size="sm" onClick={() => setConfirm({ kind: "demote", user: u })}>
                          <ShieldOff aria-hidden="true" />
                          Remove admin
                        </Button>
                      ) : (
                        <Button variant="ghost" size="sm" disabled={setAdmin.isPending} onClick={() => setAdmin.mutate({ userId: u.id, isAdmin: true })}>
                          <Shield aria-hidden="true" />
                          Make admin
                        </Button>
                      )}
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>

      <AlertDialog open={!!confirm} onOpenChange={(o) => (o ? undefined : setConfirm(null))}>
        <AlertDialogContent>
          <AlertDialogHeader>
            <AlertDialogTitle>
              {confirm?.kind === "disable"
                ? `Disable ${confirm.user.email}?`
                : confirm?.kind === "revoke"
                  ? `Sign ${confirm.user.email} out everywhere?`
                  : `Remove ${confirm?.user.email}'s admin role?`}
            </AlertDialogTitle>
            <AlertDialogDescription>
              {confirm?.kind === "disable"
                ? "Their sessions end now, their machine tokens and open streams are refused, and they cannot sign in until an admin enables the account."
                : confirm?.kind === "revoke"
                  ? "Every browser they are signed in on is signed out now. Their machine tokens keep working."
                  : "They keep their projects but can no longer manage users or providers."}
            </AlertDialogDescription>
          </AlertDialogHeader>
          <AlertDialogFooter>
            <AlertDialogCancel>Cancel</AlertDialogCancel>
            <AlertDialogAction
              onClick={() => {
                if (!confirm) return;
                const userId = confirm.user.id;
                if (confirm.kind === "disable") disable.mutate({ userId });
                else if (confirm.kind === "revoke") revoke.mutate({ userId });
                else setAdmin.mutate({ userId, isAdmin: false });
                setConfirm(null);
              }}
            >
              {confirm?.kind === "disable" ? "Disable account" : confirm?.kind === "revoke" ? "Sign out" : "Remove admin role"}
            </AlertDialogAction>
          </AlertDialogFooter>
        </AlertDialogContent>
      </AlertDialog>
    </div>
  );
}
