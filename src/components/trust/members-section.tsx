"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { UserPlus, X } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { FormError } from "@/components/auth/form-error";
import { QueryErrorAlert } from "@/components/common/query-error-alert";
import { roleLabel } from "@/components/projects/role-badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Skeleton } from "@/components/ui/skeleton";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { PROJECT_ROLES, roleAtLeast, type ProjectRole } from "@/server/domain/roles";
import { fullTime, NativeSelect, relative } from "./controls";

/** Who is in the project and with which role; admins add, change and remove members. */
export function MembersSection({ projectId, myRole, myEmail }: { projectId: string; myRole: ProjectRole; myEmail?: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const members = useQuery(trpc.project.members.list.queryOptions({ projectId }));
  const canManage = roleAtLeast(myRole, "admin");
  const assignable = PROJECT_ROLES.filter((r) => (r === "owner" ? myRole === "owner" : roleAtLeast(myRole, r)));
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<ProjectRole>("viewer");
  const [error, setError] = useState<string | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.project.members.list.queryKey({ projectId }) });

  const add = useMutation(
    trpc.project.members.add.mutationOptions({
      onSuccess: async (m) => {
        setEmail("");
        await refresh();
        toast.success(`${m.name || m.email} joined as ${roleLabel(m.role)}`);
      },
      onError: (err) => setError(errorMessage(err)),
    }),
  );
  const update = useMutation(
    trpc.project.members.updateRole.mutationOptions({
      onSuccess: () => refresh(),
      onError: (err) => toast.error("Could not change the role", { description: errorMessage(err) }),
    }),
  );
  const remove = useMutation(
    trpc.project.members.remove.mutationOptions({
      onSuccess: () => refresh(),
      onError: (err) => toast.error("Could not remove the member", { description: errorMessage(err) }),
    }),
  );

  return (
    <Card>
      <CardHeader>
        <CardTitle>
          <h3>Members</h3>
        </CardTitle>
        <CardDescription>Each member has one role; see the README&apos;s role table for what each may do.</CardDescription>
      </CardHeader>
      <CardContent className="flex flex-col gap-4">
        {canManage ? (
          <form
            aria-label="Add member"
            className="flex flex-wrap items-end gap-2"
            onSubmit={(e) => {
              e.preventDefault();
              setError(null);
              if (!email.trim()) return setError("Enter the email of an Armory user.");
              add.mutate({ projectId, email: email.trim(), role });
            }}
          >
            <div className="flex min-w-56 flex-1 flex-col gap-1">
              <label htmlFor="member-email" className="text-sm font-medium">Email</label>
              <Input id="member-email" type="email" placeholder="teammate@example.com" value={email} onChange={(e) => setEmail(e.target.value)} />
            </div>
            <div className="flex w-36 flex-col gap-1">
              <label htmlFor="member-role" className="text-sm font-medium">Role</label>
              <NativeSelect id="member-role" value={role} onChange={(e) => setRole(e.target.value as ProjectRole)}>
                {assignable.map((r) => (
                  <option key={r} value={r}>{roleLabel(r)}</option>
                ))}
              </NativeSelect>
            </div>
            <Button type="submit" disabled={add.isPending}>
              <UserPlus aria-hidden="true" />
              {add.isPending ? "Adding…" : "Add member"}
            </Button>
          </form>
        ) : null}
        <FormError message={error} />
        {members.isPending ? (
          <Skeleton className="h-24 w-full" />
        ) : members.isError ? (
          <QueryErrorAlert title="Could not load the members" error={members.error} onRetry={() => void members.refetch()} />
        ) : (
          <ul className="divide-y rounded-md border" aria-label="Members">
            {members.data.map((m) => {
              const editable = canManage && (m.role !== "owner" || myRole === "owner");
              return (
                <li key={m.userId} className="flex flex-wrap items-center gap-3 px-3 py-2.5">
                  <div className="flex min-w-0 flex-1 flex-col">
                    <span className="truncate text-sm font-medium">
                      {m.name || m.email}
                      {m.email === myEmail ? <span className="text-muted-foreground font-normal"> (you)</span> : null}
                    </span>
                    <span className="text-muted-foreground truncate text-xs">
                      {m.email} · joined <span title={fullTime(m.joinedAt)}>{relative(m.joinedAt)}</span>
                    </span>
                  </div>
                  {editable ? (
                    <NativeSelect
                      aria-label={`Role of ${m.email}`}
                      className="w-32"
                      value={m.role}
                      disabled={update.isPending}
                      onChange={(e) => update.mutate({ projectId, userId: m.userId, role: e.target.value as ProjectRole })}
                    >
                      {PROJECT_ROLES.filter((r) => r === m.role || assignable.includes(r)).map((r) => (
                        <option key={r} value={r}>{roleLabel(r)}</option>
                      ))}
                    </NativeSelect>
                  ) : (
                    <span className="text-muted-foreground text-sm">{roleLabel(m.role)}</span>
                  )}
                  {editable ? (
                    <Button
                      variant="ghost"
                      size="icon"
                      aria-label={`Remove ${m.email}`}
                      disabled={remove.isPending}
                      onClick={() => remove.mutate({ projectId, userId: m.userId })}
                    >
                      <X aria-hidden="true" />
                    </Button>
                  ) : null}
                </li>
              );
            })}
          </ul>
        )}
      </CardContent>
    </Card>
  );
}
