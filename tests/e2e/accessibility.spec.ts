// Accessibility and phone width, in a real browser against the production build: axe-core
// (WCAG 2.0/2.1 A and AA rules) runs over every page and every main dialog, in light mode and the
// main pages again in dark mode, and fails on any critical or serious violation with the rule, the
// element and axe's summary. At 390x844 (a phone) no page is wider than the screen, and the tab
// bars that do not fit scroll sideways with visible scroll buttons.
//
// The admin pages need the instance admin, which is an instance's first account, so this spec
// starts an Armory of its own (tests/support/own-armory.ts) beside the suite's shared server. Its
// agent is a real container answered by Armory's built-in demo model; afterAll removes it.
import { randomUUID } from "node:crypto";
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Browser, type BrowserContext, type Locator, type Page } from "@playwright/test";
import { createDockerClient } from "../../src/server/runtime/docker/client";
import { LABELS } from "../../src/server/runtime/docker/containers";
import { startOwnArmory, type OwnArmory } from "../support/own-armory";

const PORT = Number(process.env.ARMORY_E2E_A11Y_PORT ?? Number(process.env.ARMORY_E2E_PORT ?? 3107) + 20);
const BASE = `http://127.0.0.1:${PORT}`;
const SHOTS = "test-results/screenshots";
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1440, height: 900 };
const shotName = (name: string) => name.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "");
const PASSWORD = "correct horse battery";

const docker = createDockerClient();
let armory: OwnArmory | null = null;
let context: BrowserContext;
let page: Page;
const email = `a11y-${Date.now()}-${randomUUID().slice(0, 8)}@example.com`;
let projectId = "";
let emptyProjectId = "";
let agentId = "";
let tokenName = "";
let teamId = "";

/** Every page of the app, by path (filled in once the project and the agent exist). */
function routes(): { name: string; path: string }[] {
  const project = `/projects/${projectId}`;
  const agent = `${project}/agents/${agentId}`;
  return [
    { name: "projects", path: "/" },
    { name: "projects (/projects)", path: "/projects" },
    { name: "all agents", path: "/agents" },
    { name: "project agents", path: `${project}/agents` },
    { name: "agent chat", path: agent },
    { name: "agent files tab", path: `${agent}?tab=files` },
    { name: "agent terminal tab", path: `${agent}?tab=terminal` },
    { name: "agent logs tab", path: `${agent}?tab=logs` },
    { name: "agent metrics tab", path: `${agent}?tab=metrics` },
    { name: "agent webhooks tab", path: `${agent}?tab=webhooks` },
    { name: "agent schedules tab", path: `${agent}?tab=schedules` },
    { name: "agent snapshots tab", path: `${agent}?tab=snapshots` },
    { name: "agent settings tab", path: `${agent}?tab=settings` },
    { name: "files page", path: `${agent}/files` },
    { name: "templates", path: `${project}/templates` },
    { name: "secrets", path: `${project}/secrets` },
    { name: "access", path: `${project}/access` },
    { name: "notifications", path: `${project}/notifications` },
    { name: "audit", path: `${project}/audit` },
    { name: "usage", path: `${project}/usage` },
    { name: "teams", path: `${project}/teams` },
    { name: "team chat", path: `${project}/teams/${teamId}` },
    { name: "approvals inbox", path: `${project}/approvals` },
    { name: "project settings", path: `${project}/settings` },
    { name: "machine tokens", path: "/settings/tokens" },
    { name: "admin users", path: "/admin/users" },
    { name: "admin providers", path: "/admin/providers" },
    { name: "admin instances", path: "/admin/instances" },
  ];
}

interface Finding {
  where: string;
  text: string;
}
const findings: Finding[] = [];

/** Runs axe over the page (or only inside `include`) and records every critical or serious violation. */
async function scan(where: string, include?: string) {
  // The WCAG 2.0/2.1 A and AA rules, plus label-content-name-mismatch (WCAG 2.5.3, which axe
  // still ships as experimental): a control's accessible name must contain its visible label.
  // Legacy mode runs axe in the page itself (no extra blank page per scan; this app has no iframes).
  let builder = new AxeBuilder({ page }).setLegacyMode(true).options({
    runOnly: { type: "tag", values: TAGS },
    rules: { "label-content-name-mismatch": { enabled: true } },
  });
  if (include) builder = builder.include(include);
  const started = Date.now();
  const { violations } = await builder.analyze();
  const before = findings.length;
  for (const v of violations) {
    if (v.impact !== "critical" && v.impact !== "serious") continue;
    const nodes = v.nodes
      .slice(0, 5)
      .map((n) => `    at ${n.target.join(" ")}\n      ${(n.failureSummary ?? "").replace(/\n\s*/g, " ")}`)
      .join("\n");
    const more = v.nodes.length > 5 ? `\n    … and ${v.nodes.length - 5} more` : "";
    findings.push({ where, text: `[${v.impact}] ${v.id}: ${v.help}\n${nodes}${more}` });
  }
  // Progress on the console, so a slow run still shows what it found so far.
  console.log(`axe ${where}: ${findings.length - before} critical/serious (${Date.now() - started} ms)`);
  for (const f of findings.slice(before)) console.log(`  ${f.text}`);
}

function report(): string {
  return findings.map((f) => `${f.where}: ${f.text}`).join("\n\n");
}

/** Waits until the page has drawn its data: its heading is up and no skeleton is left. */
async function settle(p: Page = page) {
  await expect(p.locator("h1").first()).toBeVisible({ timeout: 30_000 });
  await expect(p.locator('[data-slot="skeleton"]')).toHaveCount(0, { timeout: 30_000 });
}

async function visit(path: string) {
  await page.goto(`${BASE}${path}`);
  await settle();
}

/** The first elements that reach past the right edge of the screen without a scroller clipping them. */
function stickingOut(): Promise<string> {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const el of Array.from(document.body.querySelectorAll("*"))) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.right <= window.innerWidth + 0.5) continue;
      const parentOut = el.parentElement && el.parentElement.getBoundingClientRect().right > window.innerWidth + 0.5;
      if (parentOut) continue; // report the outermost element only
      const classes = Array.from(el.classList).slice(0, 4).join(".");
      out.push(`${el.tagName.toLowerCase()}${classes ? "." + classes : ""} (right edge ${Math.round(r.right)}px)`);
      if (out.length === 5) break;
    }
    return out.join(", ") || "nothing visible (an absolutely positioned element?)";
  });
}

/** Scans an open dialog (only the dialog: the page behind it was scanned on its own). */
async function scanDialog(where: string, dialog: Locator) {
  await expect(dialog).toBeVisible();
  // The open animation ends at full opacity; a half-faded dialog would be measured too light.
  await expect(dialog).toHaveCSS("opacity", "1");
  await scan(`${where} (dialog)`, '[role="dialog"], [role="alertdialog"]');
}

async function closeDialog(dialog: Locator) {
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
}

/** Scans the signed-out pages in a browser context of their own. */
async function scanSignedOut(browser: Browser, colorScheme: "light" | "dark") {
  const signedOut = await browser.newContext({ colorScheme });
  const saved = page;
  page = await signedOut.newPage();
  try {
    for (const path of ["/sign-in", "/sign-up"]) {
      await visit(path);
      if (colorScheme === "dark") await expect(page.locator("html")).toHaveClass(/\bdark\b/);
      await scan(`${path}${colorScheme === "dark" ? " (dark)" : ""}`);
    }
  } finally {
    page = saved;
    await signedOut.close();
  }
}

// One instance, account, project and running agent for the whole file. The tests do not depend on
// each other: after a failure Playwright starts a fresh worker, and this runs again.
test.beforeAll(async ({ browser }) => {
  test.setTimeout(420_000);
  armory = await startOwnArmory({ name: "a11y", port: PORT, env: { ARMORY_SIGN_UP: "open" } });
  context = await browser.newContext({ colorScheme: "light", viewport: DESKTOP });
  page = await context.newPage();

  await page.goto(`${BASE}/sign-up`);
  await page.getByLabel("Name").fill("Ada Lovelace");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Projects" })).toBeVisible({ timeout: 30_000 });

  const newProject = async (name: string) => {
    await page.goto(`${BASE}/`);
    await page.getByRole("button", { name: "New project" }).first().click();
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Name").fill(name);
    await dialog.getByRole("button", { name: "Create project" }).click();
    await expect(page).toHaveURL(/\/projects\/[0-9a-f-]{36}\/agents$/);
    return /\/projects\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
  };
  emptyProjectId = await newProject("Empty project");
  projectId = await newProject("Accessible project");

  // A running agent (the demo model answers it) with one finished chat turn that used tools.
  await page.getByRole("button", { name: "Create your first agent" }).click();
  const create = page.getByRole("dialog", { name: "New agent" });
  await create.getByLabel("Name", { exact: true }).fill("reader");
  await create.getByRole("button", { name: "Create agent" }).click();
  await expect(create).toBeHidden({ timeout: 60_000 });
  const card = page.getByRole("article", { name: "reader" });
  await expect(card.getByTestId("agent-status")).toHaveText("Running", { timeout: 30_000 });
  agentId = /\/agents\/([0-9a-f-]{36})/.exec((await card.getByRole("link", { name: "reader" }).getAttribute("href"))!)![1]!;
  await card.getByRole("link", { name: "reader" }).click();
  await expect(page.getByRole("tab", { name: "Chat" })).toHaveAttribute("aria-selected", "true");
  await page.getByLabel("Message").fill("write a file notes.md with # Notes");
  await page.getByRole("button", { name: "Send" }).click();
  await expect(page.getByTestId("chat-turn").first()).toHaveAttribute("data-status", "completed", { timeout: 90_000 });
  // A team of that agent with one routed message (the Teams page and the team chat are scanned).
  const trpc = async (path: string, input: unknown) => {
    const res = await page.request.post(`${BASE}/api/trpc/${path}`, { data: { json: input }, headers: { origin: BASE } });
    expect(res.status(), `${path}: ${await res.text()}`).toBe(200);
    return ((await res.json()) as { result: { data: { json: { id?: string } } } }).result.data.json;
  };
  teamId = (await trpc("team.create", { projectId, name: "Readers", members: [{ agentId, description: "Reads", keywords: ["read"] }], fallbackAgentId: agentId })).id!;
  await trpc("team.send", { projectId, teamId, message: "read the notes" });
});

test.beforeEach(() => {
  findings.length = 0;
});

test.afterAll(async () => {
  await context?.close();
  for (const id of [projectId, emptyProjectId].filter(Boolean)) {
    const label = `${LABELS.projectId}=${id}`;
    for (const c of await docker.listContainers({ all: true, filters: { label: [label] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
    for (const v of (await docker.listVolumes({ filters: { label: [label] } })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
  }
  await armory?.stop();
});

test("axe finds no critical or serious violation on any page or dialog (light mode)", async ({ browser }) => {
  test.setTimeout(900_000);

  await test.step("sign-in and sign-up pages", async () => {
    await scanSignedOut(browser, "light");
  });

  await test.step("the new-project dialog; an empty project; the new-agent dialog", async () => {
    await visit("/");
    await page.getByRole("button", { name: "New project" }).first().click();
    const dialog = page.getByRole("dialog", { name: "New project" });
    await scanDialog("new project", dialog);
    await closeDialog(dialog);
    await visit(`/projects/${emptyProjectId}/agents`);
    await expect(page.getByRole("heading", { name: "No agents yet" })).toBeVisible();
    await scan("project agents (empty)");
    await page.getByRole("button", { name: "Create your first agent" }).click();
    const create = page.getByRole("dialog", { name: "New agent" });
    await scanDialog("new agent", create);
    await create.getByRole("button", { name: /Advanced/ }).click();
    await scanDialog("new agent, advanced open", create);
    await closeDialog(create);
  });

  await test.step("every page", async () => {
    for (const r of routes()) {
      await visit(r.path);
      if (r.path.includes("tab=logs")) await expect(page.getByRole("tab", { name: "Logs" })).toHaveAttribute("aria-selected", "true");
      if (r.path.includes("tab=terminal")) await expect(page.getByRole("tab", { name: "Terminal" })).toHaveAttribute("aria-selected", "true");
      if (r.name === "agent chat") await expect(page.getByTestId("chat-turn").first()).toBeVisible();
      await scan(r.name);
      await page.screenshot({ path: `${SHOTS}/a11y-desktop-${shotName(r.name)}.png` });
    }
  });

  await test.step("the account menu", async () => {
    await visit("/");
    await page.getByRole("button", { name: /Ada Lovelace/ }).click();
    const menu = page.getByRole("menu");
    await expect(menu).toBeVisible();
    await scan("account menu", '[role="menu"]');
    await page.keyboard.press("Escape");
    await expect(menu).toBeHidden();
  });

  await test.step("the agent's remove confirmation", async () => {
    await visit(`/projects/${projectId}/agents/${agentId}`);
    await page.getByRole("button", { name: "Remove", exact: true }).click();
    const dialog = page.getByRole("alertdialog", { name: "Remove reader?" });
    await scanDialog("remove agent", dialog);
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toBeHidden();
  });

  await test.step("templates: new template, template details", async () => {
    await visit(`/projects/${projectId}/templates`);
    await page.getByRole("button", { name: "New template" }).first().click();
    const form = page.getByRole("dialog", { name: "New template" });
    await scanDialog("new template", form);
    await closeDialog(form);
    await page.getByRole("button", { name: /^Details of / }).first().click();
    const details = page.getByRole("dialog");
    await scanDialog("template details", details);
    await closeDialog(details);
  });

  await test.step("access: the invitation link, a new trust grant", async () => {
    await visit(`/projects/${projectId}/access`);
    await page.getByRole("button", { name: "Create link" }).click();
    const invite = page.getByRole("dialog", { name: "Copy the invitation link" });
    await scanDialog("invitation link", invite);
    await invite.getByRole("button", { name: "Done" }).click();
    await expect(invite).toBeHidden();
    await scan("access, with a pending invitation");
    await page.getByRole("button", { name: "New grant" }).click();
    const grant = page.getByRole("dialog", { name: "New trust grant" });
    await scanDialog("new trust grant", grant);
    await closeDialog(grant);
  });

  await test.step("project settings: the delete confirmation", async () => {
    await visit(`/projects/${projectId}/settings`);
    await page.getByRole("button", { name: "Delete project" }).click();
    const dialog = page.getByRole("alertdialog");
    await scanDialog("delete project", dialog);
    await closeDialog(dialog);
  });

  await test.step("secrets: a secret and its delete confirmation", async () => {
    await visit(`/projects/${projectId}/secrets`);
    const form = page.getByRole("form", { name: "Set a project secret" });
    await form.getByLabel("Name").fill("A11Y_SECRET");
    await form.getByLabel("Value").fill("not shown anywhere");
    await form.getByRole("button").last().click();
    await page.getByRole("button", { name: "Delete secret A11Y_SECRET" }).click();
    await scan("secrets, delete confirmation");
  });

  await test.step("notifications: the new webhook dialog", async () => {
    await visit(`/projects/${projectId}/notifications`);
    await page.getByRole("button", { name: "Add webhook" }).click();
    const dialog = page.getByRole("dialog", { name: "New webhook" });
    await scanDialog("new webhook", dialog);
    await closeDialog(dialog);
  });

  await test.step("machine tokens: new token, its secret, the revoke confirmation", async () => {
    await visit("/settings/tokens");
    await page.getByRole("button", { name: "New token" }).first().click();
    const dialog = page.getByRole("dialog", { name: "New machine token" });
    await scanDialog("new machine token", dialog);
    tokenName = "a11y-token";
    await dialog.getByLabel("Name").fill(tokenName);
    await dialog.getByLabel("Accessible project").check();
    await dialog.getByRole("button", { name: "Create token" }).click();
    const secret = page.getByRole("dialog", { name: /Copy your token/ });
    await scanDialog("token secret", secret);
    await secret.getByRole("button", { name: "Done" }).click();
    await expect(secret).toBeHidden();
    await scan("machine tokens, one token");
    await page.getByRole("button", { name: /Revoke/ }).first().click();
    const revoke = page.getByRole("alertdialog", { name: `Revoke ${tokenName}?` });
    await scanDialog("revoke token", revoke);
    await closeDialog(revoke);
  });

  await test.step("admin: register a provider", async () => {
    await visit("/admin/providers");
    await page.getByRole("button", { name: "Register provider" }).first().click();
    const dialog = page.getByRole("dialog", { name: "Register a provider" });
    await scanDialog("register provider", dialog);
    await closeDialog(dialog);
  });

  expect(findings, `axe found critical or serious violations:\n\n${report()}`).toEqual([]);
});

test("axe finds no critical or serious violation on the main pages in dark mode", async ({ browser }) => {
  test.setTimeout(600_000);
  await page.emulateMedia({ colorScheme: "dark" });
  const main = routes().filter((r) => !r.name.includes("(/projects)") && !r.name.includes("metrics"));
  for (const r of main) {
    await visit(r.path);
    await expect(page.locator("html")).toHaveClass(/\bdark\b/);
    await scan(`${r.name} (dark)`);
  }
  await visit(`/projects/${projectId}/agents`);
  await page.getByRole("button", { name: "New agent" }).first().click();
  const create = page.getByRole("dialog", { name: "New agent" });
  await scanDialog("new agent (dark)", create);
  await closeDialog(create);
  await page.emulateMedia({ colorScheme: "light" });

  await scanSignedOut(browser, "dark");
  expect(findings, `axe found critical or serious violations in dark mode:\n\n${report()}`).toEqual([]);
});

test("at 390 px no page is wider than the screen; tab bars scroll with visible scroll buttons", async () => {
  test.setTimeout(300_000);
  await page.setViewportSize(PHONE);
  const overflowing: string[] = [];
  for (const r of routes()) {
    await visit(r.path);
    const width = await page.evaluate(() => document.scrollingElement!.scrollWidth);
    if (width > PHONE.width) overflowing.push(`${r.name} (${r.path}): ${width}px; sticking out: ${await stickingOut()}`);
    await page.screenshot({ path: `${SHOTS}/a11y-phone-${shotName(r.name)}.png` });
  }
  expect(overflowing, `pages wider than ${PHONE.width}px:\n${overflowing.join("\n")}`).toEqual([]);

  await test.step("the agent's tabs: a scroll button shows there are more, and scrolls to them", async () => {
    await visit(`/projects/${projectId}/agents/${agentId}`);
    const tabs = page.getByRole("tablist", { name: "Agent" });
    const settings = tabs.getByRole("tab", { name: "Settings" });
    await expect(settings).not.toBeInViewport({ ratio: 0.95 });
    const right = page.getByRole("button", { name: "Scroll Agent tabs right" });
    await expect(right).toBeVisible();
    await expect(page.getByRole("button", { name: "Scroll Agent tabs left" })).toBeHidden();
    // Each click scrolls most of the row's width: the last tab is a click or two away.
    await right.click();
    await expect(page.getByRole("button", { name: "Scroll Agent tabs left" })).toBeVisible();
    await expect(async () => {
      if (await right.isVisible()) await right.click();
      await expect(settings).toBeInViewport({ ratio: 0.95 });
    }).toPass({ timeout: 15_000 });
    await expect(right).toBeHidden();
    // The keyboard reaches every tab too: arrows move along the tab list and scroll it.
    await tabs.getByRole("tab", { name: "Chat" }).focus();
    await page.keyboard.press("End");
    await expect(settings).toBeFocused();
    await expect(settings).toBeInViewport({ ratio: 0.95 });
  });

  await test.step("the project's tabs: the same affordance", async () => {
    await visit(`/projects/${projectId}/agents`);
    const nav = page.getByRole("navigation", { name: "Project" });
    const last = nav.getByRole("link", { name: "Settings" });
    await expect(last).not.toBeInViewport({ ratio: 0.95 });
    const right = page.getByRole("button", { name: "Scroll Project tabs right" });
    await expect(right).toBeVisible();
    await right.click();
    await expect(page.getByRole("button", { name: "Scroll Project tabs left" })).toBeVisible();
    // Each click scrolls most of a screen; the button goes away at the end of the row.
    // (The button leaves the DOM when the row reaches its end, possibly mid-click: hence toPass.)
    await expect(async () => {
      if (await right.isVisible()) await right.click({ timeout: 1_000 });
      await expect(right).toBeHidden({ timeout: 1_000 });
    }).toPass({ timeout: 20_000 });
    await expect(last).toBeInViewport({ ratio: 0.95 });
    await page.screenshot({ path: `${SHOTS}/a11y-phone-project-tabs-scrolled.png` });
  });

  await test.step("every main-nav link is reachable on a phone", async () => {
    const nav = page.getByRole("navigation", { name: "Main" });
    for (const name of ["Projects", "Agents", "Admin"]) {
      const link = nav.getByRole("link", { name });
      await link.scrollIntoViewIfNeeded();
      await expect(link).toBeInViewport({ ratio: 0.95 });
    }
  });
  await page.setViewportSize(DESKTOP);
});
