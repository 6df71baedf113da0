"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { Trash2 } from "lucide-react";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { toast } from "sonner";
import { FormError } from "@/components/auth/form-error";
import { SubmitButton } from "@/components/forms/submit-button";
import { CharacterCount, TextareaField, TextField } from "@/components/forms/text-field";
import { useCheckedForm } from "@/components/forms/use-checked-form";
import {
  apiFieldErrors,
  PROJECT_DESCRIPTION_MAX,
  PROJECT_NAME_MAX,
  validateProjectForm,
} from "@/components/projects/project-form";
import { AdminOnlyNotice } from "@/components/projects/role-badge";
import {
  AlertDialog,
  AlertDialogCancel,
  AlertDialogContent,
  AlertDialogDescription,
  AlertDialogFooter,
  AlertDialogHeader,
  AlertDialogTitle,
} from "@/components/ui/alert-dialog";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";
import { FieldGroup } from "@/components/ui/field";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { timeAgo } from "@/lib/utils";
import type { AppRouter } from "@/server/api/root";
import { roleAtLeast } from "@/server/domain/roles";

type Project = inferRouterOutputs<AppRouter>["project"]["get"];

export function ProjectSettings({ projectId, focusName = false }: { projectId: string; focusName?: boolean }) {
  const trpc = useTRPC();
  const project = useQuery(trpc.project.get.queryOptions({ projectId }));
  // The shell above shows loading and error states; this renders once the project is known.
  if (!project.data) return null;

  return (
    <div className="flex max-w-3xl flex-col gap-8">
      <div className="flex flex-col gap-1">
        <h2 className="text-lg font-semibold tracking-tight">Settings</h2>
        <p className="text-muted-foreground text-sm">
          Created {timeAgo(project.data.createdAt)} · last changed {timeAgo(project.data.updatedAt)}
        </p>
      </div>
      <GeneralSettings key={project.data.updatedAt.getTime()} project={project.data} focusName={focusName} />
      <DangerZone project={project.data} />
    </div>
  );
}

function GeneralSettings({ project, focusName }: { project: Project; focusName: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const canEdit = roleAtLeast(project.role, "admin");
  const { formRef, values, serverError, validate, fail, field } = useCheckedForm({
    initial: { name: project.name, description: project.description },
    check: validateProjectForm,
    fieldErrorsOf: apiFieldErrors,
    clearServerErrorOnChange: true,
  });

  const update = useMutation(
    trpc.project.update.mutationOptions({
      onSuccess: async (saved) => {
        // The header and this form re-render from the saved project (the form re-mounts on it).
        queryClient.setQueryData(trpc.project.get.queryKey({ projectId: saved.id }), saved);
        await queryClient.invalidateQueries({ queryKey: trpc.project.list.queryKey() });
        toast.success("Project settings saved");
      },
    }),
  );

  const dirty =
    (values.name ?? "").trim() !== project.name || (values.description ?? "").trim() !== project.description;

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (update.isPending || !canEdit) return;
    const result = validate();
    if (!result) return;
    update.mutate({ projectId: project.id, name: result.data.name, description: result.data.description }, {
      // Handled here (not in mutationOptions) because it reads the form ref.
      onError: fail,
    });
  }

  return (
    <Card className="overflow-hidden pb-0">
      <CardHeader>
        <CardTitle>
          <h3>General</h3>
        </CardTitle>
        <CardDescription>The project&apos;s name and description, as everyone in it sees them.</CardDescription>
      </CardHeader>
      <form ref={formRef} onSubmit={onSubmit} noValidate aria-label="General settings" className="flex flex-col gap-6">
        <CardContent className="flex flex-col gap-5">
          {!canEdit ? (
            <AdminOnlyNotice role={project.role} what="these settings" />
          ) : null}
          <FormError message={serverError} />
          <FieldGroup>
            <TextField
              id="project-name"
              label="Project name"
              autoComplete="off"
              autoFocus={focusName && canEdit}
              onFocus={(e) => {
                if (focusName) e.currentTarget.select();
              }}
              {...field("name")}
              labelAside={<CharacterCount length={(values.name ?? "").trim().length} max={PROJECT_NAME_MAX} />}
              disabled={!canEdit || update.isPending}
            />
            <TextareaField
              id="project-description"
              label="Description"
              rows={4}
              placeholder="What the agents in this project work on"
              className="[&_textarea]:max-h-72"
              {...field("description")}
              labelAside={
                <CharacterCount length={(values.description ?? "").trim().length} max={PROJECT_DESCRIPTION_MAX} />
              }
              disabled={!canEdit || update.isPending}
            />
          </FieldGroup>
        </CardContent>
        <CardFooter className="bg-muted/40 justify-between gap-4 border-t py-4 [.border-t]:pt-4">
          <p className="text-muted-foreground text-xs">
            {dirty ? "You have unsaved changes." : "Names can be up to 100 characters."}
          </p>
          <SubmitButton pending={update.isPending} pendingLabel="Saving…" disabled={!canEdit || !dirty}>
            Save changes
          </SubmitButton>
        </CardFooter>
      </form>
    </Card>
  );
}

function DangerZone({ project }: { project: Project }) {
  const isOwner = project.role === "owner";
  const [open, setOpen] = useState(false);

  return (
    <Card className="border-destructive/40">
      <CardHeader>
        <CardTitle>
          <h3 className="text-destructive">Danger zone</h3>
        </CardTitle>
        <CardDescription>Actions here cannot be undone.</CardDescription>
      </CardHeader>
      <CardContent>
        <div className="flex flex-col gap-4 rounded-lg border p-4 sm:flex-row sm:items-center sm:justify-between">
          <div className="flex flex-col gap-1">
            <p className="text-sm font-medium">Delete this project</p>
            <p className="text-muted-foreground text-sm">
              {isOwner
                ? "Removes the project, its members and everything it holds, for everyone."
                : "Only the project's owner can delete it."}
            </p>
          </div>
          <Button variant="destructive" disabled={!isOwner} onClick={() => setOpen(true)} className="shrink-0">
            <Trash2 aria-hidden="true" />
            Delete project
          </Button>
        </div>
      </CardContent>
      {isOwner ? <DeleteProjectDialog project={project} open={open} onOpenChange={setOpen} /> : null}
    </Card>
  );
}

function DeleteProjectDialog({
  project,
  open,
  onOpenChange,
}: {
  project: Project;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const [confirmation, setConfirmation] = useState("");
  const [error, setError] = useState<string | null>(null);
  const matches = confirmation === project.name;

  const remove = useMutation(
    trpc.project.delete.mutationOptions({
      onSuccess: async () => {
        toast.success("Project deleted", { description: project.name });
        await queryClient.invalidateQueries({ queryKey: trpc.project.list.queryKey() });
        router.push("/");
      },
      onError: (err) => setError(errorMessage(err)),
    }),
  );

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!matches || remove.isPending) return;
    setError(null);
    remove.mutate({ projectId: project.id });
  }

  return (
    <AlertDialog
      open={open}
      onOpenChange={(next) => {
        if (remove.isPending) return;
        onOpenChange(next);
        if (!next) {
          setConfirmation("");
          setError(null);
        }
      }}
    >
      <AlertDialogContent>
        <form onSubmit={onSubmit} noValidate className="flex flex-col gap-4" aria-label="Delete project">
          <AlertDialogHeader>
            <AlertDialogTitle>Delete {project.name}?</AlertDialogTitle>
            <AlertDialogDescription>
              {project.memberCount === 1
                ? "This permanently deletes the project and everything in it."
                : `This permanently deletes the project for all ${project.memberCount} members, with everything in it.`}{" "}
              It cannot be undone.
            </AlertDialogDescription>
          </AlertDialogHeader>
          <FormError message={error} />
          <TextField
            id="delete-project-confirmation"
            label={
              <span>
                Type <span className="bg-muted rounded px-1 py-0.5 font-mono text-xs">{project.name}</span> to confirm
              </span>
            }
            autoComplete="off"
            spellCheck={false}
            value={confirmation}
            onChange={(e) => setConfirmation(e.target.value)}
            disabled={remove.isPending}
          />
          <AlertDialogFooter>
            <AlertDialogCancel type="button" disabled={remove.isPending}>
              Cancel
            </AlertDialogCancel>
            <SubmitButton variant="destructive" pending={remove.isPending} pendingLabel="Deleting…" disabled={!matches}>
              Delete project
            </SubmitButton>
          </AlertDialogFooter>
        </form>
      </AlertDialogContent>
    </AlertDialog>
  );
}
