"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Loader2 } from "lucide-react";
import { useRouter } from "next/navigation";
import { useRef, useState } from "react";
import { toast } from "sonner";
import { FormError } from "@/components/auth/form-error";
import { CharacterCount, focusFirstInvalid, TextareaField, TextField } from "@/components/forms/text-field";
import {
  apiFieldErrors,
  PROJECT_DESCRIPTION_MAX,
  PROJECT_NAME_MAX,
  validateProjectForm,
  type ProjectFormErrors,
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
import { errorMessage, useTRPC } from "@/lib/trpc/client";

const EMPTY: ProjectFormValues = { name: "", description: "" };

export function CreateProjectDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const formRef = useRef<HTMLFormElement>(null);
  const [values, setValues] = useState<ProjectFormValues>(EMPTY);
  const [errors, setErrors] = useState<ProjectFormErrors>({});
  const [submitted, setSubmitted] = useState(false);
  const [serverError, setServerError] = useState<string | null>(null);

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

  function reset() {
    setValues(EMPTY);
    setErrors({});
    setSubmitted(false);
    setServerError(null);
    create.reset();
  }

  function close() {
    onOpenChange(false);
    reset();
  }

  function update(field: keyof ProjectFormValues, value: string) {
    const next = { ...values, [field]: value };
    setValues(next);
    if (submitted) {
      const result = validateProjectForm(next);
      setErrors(result.ok ? {} : result.errors);
    }
  }

  function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (create.isPending) return;
    setSubmitted(true);
    setServerError(null);
    const result = validateProjectForm(values);
    if (!result.ok) {
      setErrors(result.errors);
      focusFirstInvalid(formRef.current);
      return;
    }
    setErrors({});
    create.mutate({ name: result.data.name, description: result.data.description || undefined }, {
      // Handled here (not in mutationOptions) because it reads the form ref.
      onError: (err) => {
        const fields = apiFieldErrors(err);
        if (fields) {
          setErrors(fields);
          focusFirstInvalid(formRef.current);
        } else {
          setServerError(errorMessage(err));
        }
      },
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
              name="name"
              placeholder="e.g. Payments backend"
              autoComplete="off"
              autoFocus
              value={values.name}
              onChange={(e) => update("name", e.target.value)}
              error={errors.name}
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
              name="description"
              placeholder="What the agents in this project work on"
              rows={3}
              className="[&_textarea]:max-h-48"
              value={values.description}
              onChange={(e) => update("description", e.target.value)}
              error={errors.description}
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
            <Button type="submit" disabled={create.isPending}>
              {create.isPending ? (
                <>
                  <Loader2 className="animate-spin" aria-hidden="true" />
                  Creating…
                </>
              ) : (
                "Create project"
              )}
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}
