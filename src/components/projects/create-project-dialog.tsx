"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
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
  type ProjectFormValues,
} from "@/components/projects/project-form";
import { Button } from "@/components/ui/button";
import {
  Dialog,
  DialogContent,
  DialogDescription,
  DialogFooter,
  DialogHeader,
  DialogTitle,
} from "@/components/ui/dialog";
import { FieldGroup } from "@/components/ui/field";
import { useTRPC } from "@/lib/trpc/client";

const EMPTY: ProjectFormValues = { name: "", description: "" };

export function CreateProjectDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const { formRef, values, serverError, validate, fail, reset, field } = useCheckedForm({
    initial: EMPTY,
    check: validateProjectForm,
    fieldErrorsOf: apiFieldErrors,
  });

  const create = useMutation(
    trpc.project.create.mutationOptions({
      onSuccess: async (project) => {
        queryClient.setQueryData(trpc.project.get.queryKey({ projectId: project.id }), project);
        await queryClient.invalidateQueries({ queryKey: trpc.project.list.queryKey() });
        toast.success("Project created", { description: project.name });
        close();
        router.push(`/projects/${project.id}`);
      },
    }),
  );

  function close() {
    onOpenChange(false);
    reset(EMPTY);
    create.reset();
  }

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (create.isPending) return;
    const result = validate();
    if (!result) return;
    create.mutate({ name: result.data.name, description: result.data.description || undefined }, {
      // Handled here (not in mutationOptions) because it reads the form ref.
      onError: fail,
    });
  }

  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        if (next) onOpenChange(true);
        else if (!create.isPending) close();
      }}
    >
      <DialogContent className="sm:max-w-md">
        <DialogHeader>
          <DialogTitle>New project</DialogTitle>
          <DialogDescription>
            A project holds agents, their templates and secrets, and decides who may use them.
          </DialogDescription>
        </DialogHeader>
        <form ref={formRef} onSubmit={onSubmit} noValidate className="flex flex-col gap-5" aria-label="New project">
          <FormError message={serverError} />
          <FieldGroup>
            <TextField
              id="create-project-name"
              label="Name"
              placeholder="e.g. Payments backend"
              autoComplete="off"
              autoFocus
              {...field("name")}
              labelAside={
                values.name.length > PROJECT_NAME_MAX - 20 ? (
                  <CharacterCount length={values.name.trim().length} max={PROJECT_NAME_MAX} />
                ) : null
              }
              disabled={create.isPending}
            />
            <TextareaField
              id="create-project-description"
              label={
                <>
                  Description <span className="text-muted-foreground font-normal">(optional)</span>
                </>
              }
              placeholder="What the agents in this project work on"
              rows={3}
              className="[&_textarea]:max-h-48"
              {...field("description")}
              labelAside={
                values.description && values.description.length > PROJECT_DESCRIPTION_MAX - 200 ? (
                  <CharacterCount length={values.description.trim().length} max={PROJECT_DESCRIPTION_MAX} />
                ) : null
              }
              disabled={create.isPending}
            />
          </FieldGroup>
          <DialogFooter>
            <Button type="button" variant="outline" onClick={close} disabled={create.isPending}>
              Cancel
            </Button>
            <SubmitButton pending={create.isPending} pendingLabel="Creating…">
              Create project
            </SubmitButton>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
