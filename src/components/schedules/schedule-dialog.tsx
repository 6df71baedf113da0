"use client";
// Create or edit a schedule: name, cron (its next three fire times previewed as you type, in the
// schedule's time zone), time zone, message, session (a new one each run, or one named session
// continued) and what to do with runs missed while Armory was down.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Loader2 } from "lucide-react";
import { useMemo, useState } from "react";
import { toast } from "sonner";
import { SelectField } from "@/components/agents/form-controls";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from "@/components/ui/dialog";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Textarea } from "@/components/ui/textarea";
import { errorMessage, useTRPC } from "@/lib/trpc/client";
import { timeAgo } from "@/lib/utils";
import {
  cronProblem,
  nextFireTimes,
  SCHEDULE_LIMITS,
  timeZoneProblem,
  type ScheduleCatchUp,
  type ScheduleSessionMode,
  type ScheduleView,
} from "@/contracts/schedules";

interface FormState {
  name: string;
  cron: string;
  timeZone: string;
  message: string;
  session: ScheduleSessionMode;
  sessionName: string;
  catchUp: ScheduleCatchUp;
}

function initial(s: ScheduleView | null): FormState {
  return {
    name: s?.name ?? "",
    cron: s?.cron ?? "0 9 * * 1-5",
    timeZone: s?.timeZone ?? "UTC",
    message: s?.message ?? "",
    session: s?.session ?? "new",
    sessionName: s?.sessionName ?? "",
    catchUp: s?.catchUp ?? "once",
  };
}

/** The IANA zones this browser knows (UTC first). */
function zones(current: string): string[] {
  const all = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return [...new Set(["UTC", current, ...all])];
}

/** A fire time as the schedule's zone shows it, e.g. "Mon 7 Dec 2026, 09:00". */
export function formatInZone(d: Date, timeZone: string): string {
  return d.toLocaleString("en-GB", { timeZone, weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
}

function problems(f: FormState): Partial<Record<"name" | "cron" | "timeZone" | "message", string>> {
  const out: ReturnType<typeof problems> = {};
  if (!f.name.trim()) out.name = "A schedule needs a name";
  const zone = timeZoneProblem(f.timeZone);
  if (zone) out.timeZone = zone.replace(/^timeZone: /, "");
  const cron = cronProblem(f.cron, f.timeZone);
  if (cron) out.cron = cron.replace(/^cron: /, "");
  if (!f.message.trim()) out.message = "A schedule needs a message";
  return out;
}

export function ScheduleDialog({
  projectId,
  agentId,
  schedule,
  open,
  onOpenChange,
}: {
  projectId: string;
  agentId: string;
  /** null: a new schedule. */
  schedule: ScheduleView | null;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [form, setForm] = useState<FormState>(() => initial(schedule));
  const [touched, setTouched] = useState(false);
  const set = (patch: Partial<FormState>) => setForm((f) => ({ ...f, ...patch }));
  const found = problems(form);
  const invalid = Object.keys(found).length > 0;
  const zoneList = useMemo(() => zones(form.timeZone), [form.timeZone]);
  const preview = useMemo(() => (found.cron || found.timeZone ? [] : nextFireTimes(form.cron, form.timeZone, 3, new Date())), [form.cron, form.timeZone, found.cron, found.timeZone]);

  const done = async (verb: string) => {
    await queryClient.invalidateQueries({ queryKey: trpc.schedule.list.queryKey({ projectId, agentId }) });
    toast.success(`Schedule ${form.name.trim()} ${verb}`);
    onOpenChange(false);
  };
  const create = useMutation(trpc.schedule.create.mutationOptions({ onSuccess: () => done("created") }));
  const update = useMutation(trpc.schedule.update.mutationOptions({ onSuccess: () => done("saved") }));
  const pending = create.isPending || update.isPending;
  const serverError = create.error ?? update.error;

  function submit(e: React.FormEvent) {
    e.preventDefault();
    setTouched(true);
    if (invalid || pending) return;
    const body = {
      projectId,
      agentId,
      name: form.name.trim(),
      cron: form.cron.trim(),
      timeZone: form.timeZone,
      message: form.message,
      session: form.session,
      sessionName: form.session === "named" ? form.sessionName.trim() || null : null,
      catchUp: form.catchUp,
    };
    if (schedule) update.mutate({ ...body, scheduleId: schedule.id });
    else create.mutate(body);
  }

  const err = (k: keyof typeof found) => (touched ? (found[k] ?? null) : null);

  return (
    <Dialog open={open} onOpenChange={(next) => !pending && onOpenChange(next)}>
      <DialogContent className="max-h-[calc(100dvh-2rem)] overflow-y-auto sm:max-w-lg">
        <DialogHeader>
          <DialogTitle>{schedule ? `Edit ${schedule.name}` : "New schedule"}</DialogTitle>
          <DialogDescription>Armory sends the message to this agent at every time the cron expression names, in the time zone you choose.</DialogDescription>
        </DialogHeader>
        <form id="schedule-form" onSubmit={submit} noValidate className="flex flex-col gap-4" aria-label={schedule ? "Edit schedule" : "New schedule"}>
          <div className="flex flex-col gap-1.5">
            <Label htmlFor="schedule-name">Name</Label>
            <Input id="schedule-name" value={form.name} maxLength={SCHEDULE_LIMITS.name} onChange={(e) => set({ name: e.target.value })} aria-invalid={!!err("name")} autoComplete="off" />
            {err("name") ? <p className="text-destructive text-xs">{err("name")}</p> : null}
          </div>
          <div className="flex flex-col gap-1.5">
            <Label htmlFor="schedule-cron">Cron</Label>
            <Input
              id="schedule-cron"
              value={form.cron}
              maxLength={SCHEDULE_LIMITS.cron}
              onChange={(e) => set({ cron: e.target.value })}
              className="font-mono"
              spellCheck={false}
              autoComplete="off"
              aria-invalid={!!found.cron}
              aria-describedby="schedule-cron-help schedule-cron-preview"
            />
            <p id="schedule-cron-help" className="text-muted-foreground text-xs">
              Five fields: minute hour day-of-month month day-of-week (e.g. <span className="font-mono">0 9 * * 1-5</span>: 09:00 on weekdays), or @hourly, @daily, @weekly.
            </p>
            <div id="schedule-cron-preview" aria-live="polite" data-testid="cron-preview">
              {found.cron ? (
                <p className="text-destructive text-xs">{found.cron}</p>
              ) : preview.length ? (
                <>
                  <p className="text-xs font-medium">Next runs</p>
                  <ol className="text-muted-foreground list-inside list-decimal text-xs">
                    {preview.map((d) => (
                      <li key={d.getTime()} data-testid="cron-preview-time">
                        {formatInZone(d, form.timeZone)} ({timeAgo(d)})
                      </li>
                    ))}
                  </ol>
                </>
              ) : null}
            </div>
          </div>
          <SelectField id="schedule-zone" label="Time zone" value={form.timeZone} onChange={(e) => set({ timeZone: e.target.value })} error={err("timeZone")}>
            {zoneList.map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </SelectField>
          <div className="flex flex-col gap-1.5">
            <Label htmlFor="schedule-message">Message</Label>
            <Textarea id="schedule-message" value={form.message} maxLength={SCHEDULE_LIMITS.message} rows={4} onChange={(e) => set({ message: e.target.value })} aria-invalid={!!err("message")} />
            {err("message") ? <p className="text-destructive text-xs">{err("message")}</p> : null}
          </div>
          <SelectField
            id="schedule-session"
            label="Session"
            value={form.session}
            onChange={(e) => set({ session: e.target.value as ScheduleSessionMode })}
            description={form.session === "new" ? "Each run starts a new conversation." : "Every run continues the same conversation (created by the first run)."}
          >
            <option value="new">A new session each run</option>
            <option value="named">One named session, continued</option>
          </SelectField>
          {form.session === "named" ? (
            <div className="flex flex-col gap-1.5">
              <Label htmlFor="schedule-session-name">Session name</Label>
              <Input id="schedule-session-name" value={form.sessionName} maxLength={SCHEDULE_LIMITS.sessionName} placeholder={form.name || "The schedule's name"} onChange={(e) => set({ sessionName: e.target.value })} autoComplete="off" />
            </div>
          ) : null}
          <SelectField
            id="schedule-catch-up"
            label="Runs missed while Armory was down"
            value={form.catchUp}
            onChange={(e) => set({ catchUp: e.target.value as ScheduleCatchUp })}
          >
            <option value="once">Run once when Armory is back</option>
            <option value="skip">Skip (recorded in the history)</option>
          </SelectField>
          {serverError ? (
            <p role="alert" className="text-destructive text-sm">
              {errorMessage(serverError)}
            </p>
          ) : null}
        </form>
        <DialogFooter>
          <Button variant="outline" onClick={() => onOpenChange(false)} disabled={pending}>
            Cancel
          </Button>
          <Button type="submit" form="schedule-form" disabled={pending}>
            {pending ? <Loader2 className="animate-spin" aria-hidden="true" /> : null}
            {schedule ? "Save" : "Create schedule"}
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  );
}
