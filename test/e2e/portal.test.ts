/**
 * The portal in headless Chromium against the local runtime. The test signs
 * in with a one-time link, creates a key and sees its secret once, and calls
 * the API with it through the openai SDK. It then finds the spend on the
 * usage chart and a receipt, revokes the key, submits a purchase request and
 * reads the guide in Chinese.
 * Screenshots of each page go to test-results/screenshots/.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { WorkspaceItem } from "../../functions/store/items.ts";
import { createSignInLink } from "../../functions/store/portal-sessions.ts";
import { startGateway, type TestGateway } from "../setup/gateway.ts";
import { newWorkspace } from "../setup/store.ts";

const SCREENSHOTS = "test-results/screenshots";
const CHROMIUM_ARGS = [
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
];

let gateway: TestGateway;
let origin: string;
let browser: BrowserContext;
let page: Page;
let profileDir: string;
let workspace: WorkspaceItem;
let secret = "";
/** Script errors and console errors of the page, shown when a test fails. */
const browserErrors: string[] = [];
/** Uncaught script errors of the page alone. */
const pageErrors: string[] = [];
/** Messages of the confirmation dialogs the page opened, all accepted. */
const dialogs: string[] = [];

function buildSite(): void {
	execFileSync("npx", ["astro", "build", "--root", "site", "--silent"], {
		stdio: "inherit",
		env: { ...process.env, ASTRO_TELEMETRY_DISABLED: "1" },
	});
}

async function screenshot(name: string): Promise<void> {
	await page.screenshot({
		path: join(SCREENSHOTS, `${name}.png`),
		fullPage: true,
	});
}

function client(apiKey: string): OpenAI {
	return new OpenAI({ baseURL: `${origin}/v1`, apiKey, maxRetries: 0 });
}

beforeAll(async () => {
	buildSite();
	mkdirSync(SCREENSHOTS, { recursive: true });
	gateway = await startGateway({ cell: "global" });
	origin = gateway.baseUrl.replace(/\/v1$/, "");
	workspace = await newWorkspace(gateway.store, {
		cell: "global",
		creditUsd: "10",
		name: "E2E clinic",
	});
	profileDir = mkdtempSync(join(tmpdir(), "gag-chromium-"));
	browser = await chromium.launchPersistentContext(profileDir, {
		executablePath: "/usr/bin/chromium",
		headless: true,
		args: CHROMIUM_ARGS,
		viewport: { width: 1280, height: 900 },
	});
	page = browser.pages()[0] ?? (await browser.newPage());
	page.on("dialog", (dialog) => {
		dialogs.push(dialog.message());
		void dialog.accept();
	});
	page.on("pageerror", (error) => {
		browserErrors.push(error.message);
		pageErrors.push(error.message);
	});
	page.on("console", (message) => {
		if (message.type() === "error") browserErrors.push(message.text());
	});
}, 180_000);

afterEach((context) => {
	if (context.task.result?.state === "fail" && browserErrors.length > 0) {
		console.error(`Browser errors:\n${browserErrors.join("\n")}`);
	}
	browserErrors.length = 0;
	pageErrors.length = 0;
	dialogs.length = 0;
});

afterAll(async () => {
	await browser?.close();
	await gateway?.stop();
	if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

describe("portal in Chromium", () => {
	it("asks to sign in without a session", async () => {
		const pages = [
			"",
			"keys/",
			"usage/",
			"receipts/",
			"policy/",
			"marketplace/",
			"quickstart/",
			"requests/",
			"seller/",
		];

		for (const path of pages) {
			await page.goto(`${origin}/${path}`);
			const notice = page.locator(".notice.error").first();
			await notice.waitFor();

			expect(await notice.textContent(), path).toContain(
				"Open the one-time sign-in link",
			);
			expect(await page.locator("main .loading").count(), path).toBe(0);
		}
		expect(pageErrors).toEqual([]);
	});

	it("signs in with a one-time link", async () => {
		const url = await createSignInLink(gateway.store, {
			workspaceId: workspace.workspaceId,
			userId: "e2e-owner",
			email: "owner@example.com",
			role: "owner",
			baseUrl: origin,
			cell: "global",
		});

		await page.goto(url);
		await page.waitForURL(`${origin}/`);
		await page.getByTestId("available").waitFor();

		expect(await page.getByTestId("available").textContent()).toBe("$10.00");
		expect(await page.getByTestId("session-user").textContent()).toContain(
			"owner@example.com",
		);
		await screenshot("overview");
	});

	it("shows a new key's secret once", async () => {
		await page.goto(`${origin}/keys/`);
		await page.getByLabel("Name", { exact: true }).fill("e2e key");
		await page.getByLabel("Budget cap in USD (optional)").fill("5");
		await page.getByLabel("Project").fill("e2e");
		await page.getByRole("button", { name: "Create key" }).click();
		secret = (await page.getByTestId("secret-value").textContent()) ?? "";
		await screenshot("keys-new-secret");

		await page.getByRole("button", { name: "I have stored it" }).click();
		await page.reload();
		await page.getByTestId("key-row-e2e key").waitFor();

		expect(secret).toMatch(/^sk-gag-global-/);
		expect(await page.content()).not.toContain(secret);
		expect(await page.getByTestId("key-row-e2e key").textContent()).toContain(
			secret.slice(0, "sk-gag-global-".length + 4),
		);
		await screenshot("keys");
	});

	it("answers a chat request with the key", async () => {
		const completion = await client(secret).chat.completions.create({
			model: "gpt-4o-mini",
			messages: [{ role: "user", content: "Hello from the portal test" }],
		});

		expect(completion.choices[0]?.message.content).toBeTruthy();
	});

	it("shows the spend on the usage chart", async () => {
		await page.goto(`${origin}/usage/`);
		await page.getByTestId("usage-total").waitFor();

		expect(await page.getByTestId("usage-total").textContent()).not.toBe(
			"$0.00",
		);
		expect(
			await page.getByRole("figure", { name: "Spend by model" }).textContent(),
		).toContain("gpt-4o-mini");
		await screenshot("usage");
	});

	it("lists a usage receipt", async () => {
		await page.goto(`${origin}/receipts/`);
		await page.getByTestId("receipt-row").first().waitFor();

		const rows = await page.getByTestId("receipt-row").allTextContents();

		expect(rows.some((row) => row.includes("gpt-4o-mini"))).toBe(true);
		await screenshot("receipts");
	});

	it("moves focus to receipt details", async () => {
		await page.setViewportSize({ width: 1280, height: 300 });
		await page.goto(`${origin}/receipts/`);
		const row = page.getByTestId("receipt-row").first();
		await row.getByRole("button", { name: /^Show receipt/ }).click();
		const heading = page.getByRole("heading", { name: /^Receipt / });
		await heading.waitFor();

		await expect
			.poll(() =>
				heading.evaluate((element) => element === document.activeElement),
			)
			.toBe(true);
		const top = await heading.evaluate(
			(element) => element.getBoundingClientRect().top,
		);
		expect(top).toBeGreaterThanOrEqual(0);
		expect(top).toBeLessThan(300);
		await page.setViewportSize({ width: 1280, height: 900 });
	});

	it("revokes the key", async () => {
		await page.goto(`${origin}/keys/`);
		const row = page.getByTestId("key-row-e2e key");
		await row.getByRole("button", { name: "Revoke" }).click();
		await row.getByText("revoked").waitFor();
		const ask = () =>
			client(secret)
				.chat.completions.create({
					model: "gpt-4o-mini",
					messages: [{ role: "user", content: "Still there?" }],
				})
				.catch((error: unknown) => error);

		const next = await ask();
		// The chat handler caches keys for up to 5 s, so the 401 is certain
		// only once that window has passed.
		await new Promise((resolve) => setTimeout(resolve, 5_500));
		const later = await ask();

		expect(next).toBeInstanceOf(OpenAI.APIError);
		expect(later).toBeInstanceOf(OpenAI.AuthenticationError);
		await screenshot("keys-revoked");
	});

	it("confirms before rotating a key", async () => {
		await page.goto(`${origin}/keys/`);
		await page.locator("summary", { hasText: "Create an API key" }).click();
		await page.getByLabel("Name", { exact: true }).fill("rotated key");
		await page.getByRole("button", { name: "Create key" }).click();
		const first = (await page.getByTestId("secret-value").textContent()) ?? "";
		await page.getByRole("button", { name: "I have stored it" }).click();
		const row = page.getByTestId("key-row-rotated key");

		await row.getByRole("button", { name: "Rotate" }).click();
		const second = page.getByTestId("secret-value");
		await second.waitFor();

		expect(dialogs).toHaveLength(1);
		expect(dialogs[0]).toContain("stop working immediately");
		expect(await second.textContent()).not.toBe(first);
		await screenshot("keys-rotated");
	});

	it("wraps long key tags", async () => {
		await page.goto(`${origin}/keys/`);
		await page.locator("summary", { hasText: "Create an API key" }).click();
		await page.getByLabel("Name", { exact: true }).fill("tagged key");
		await page.getByLabel("Project").fill("long-project-name-".repeat(5));
		await page.getByLabel("Department").fill("platform engineering ".repeat(4));
		await page.getByRole("button", { name: "Create key" }).click();
		await page.getByRole("button", { name: "I have stored it" }).click();
		await page.getByTestId("key-row-tagged key").waitFor();

		const overflow = await page
			.locator(".table-wrap")
			.last()
			.evaluate((wrap) => wrap.scrollWidth - wrap.clientWidth);

		expect(overflow).toBeLessThanOrEqual(0);
		await screenshot("keys-long-tags");
	});

	it("submits a purchase request", async () => {
		await page.goto(`${origin}/marketplace/`);
		await page
			.getByRole("checkbox", { name: /Add gpt-4o-mini/ })
			.first()
			.check();
		await page.getByLabel("Expected monthly spend in USD").fill("250");
		await page.getByLabel("Contact name").fill("Ana Lim");
		await page.getByLabel("Contact email").fill("ana@example.com");
		await page.getByRole("button", { name: "Submit purchase request" }).click();
		await page.getByTestId("purchase-submitted").waitFor();
		await page.getByTestId("purchase-row").first().waitFor();

		expect(
			await page.getByTestId("purchase-row").first().textContent(),
		).toContain("$250.00");
		await screenshot("marketplace");
	});

	it("keeps spaces around guide markup", async () => {
		await page.goto(`${origin}/guide/`);
		const english = page.locator('article[data-lang="en"]');
		const text = ((await english.textContent()) ?? "").replace(/\s+/g, " ");
		const joined = await english.evaluate((article) =>
			[...article.querySelectorAll("a, em, code, strong")]
				.filter((element) => {
					const before = element.previousSibling?.textContent ?? " ";
					const after = element.nextSibling?.textContent ?? " ";
					return /[\w,]$/.test(before) || /^[\w(]/.test(after);
				})
				.map((element) => element.outerHTML),
		);

		expect(text).toContain("Compare them on the Models page.");
		expect(text).toContain("is active, inactive (switched off");
		expect(text).toContain("Lower max_tokens to reserve less.");
		expect(text).toContain("creates a key named faq-bot with");
		expect(text).toContain('ends with finish_reason "length"');
		expect(joined).toEqual([]);
	});

	it("switches the guide to Chinese", async () => {
		await page.goto(`${origin}/guide/`);
		await screenshot("guide-en");
		await page.getByRole("button", { name: "简体中文" }).click();

		expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe(
			"模型配置指南",
		);
		expect(await page.locator("html").getAttribute("lang")).toBe("zh-CN");
		await screenshot("guide-zh");
	});

	it("shows a request's audit trail", async () => {
		await page.goto(`${origin}/requests/`);
		await page.locator("table a").last().click();
		await page.getByRole("heading", { name: /^Request req_/ }).waitFor();

		expect(await page.locator("main").textContent()).toContain(
			"Candidates, in order",
		);
		expect(await page.getByTestId("request-status").last().textContent()).toBe(
			"completed",
		);
		await screenshot("requests");
	});

	it("disables policy choices that cannot apply", async () => {
		await page.goto(`${origin}/policy/`);
		const region = (name: string) =>
			page.getByRole("checkbox", { name, exact: true });
		await region("SG").waitFor();
		const restrict = page.getByRole("checkbox", {
			name: "Only the providers checked below",
		});
		const provider = page.locator('input[name="allowedProviders"]').first();
		const restrictedBefore = await restrict.isChecked();
		const providerBefore = await provider.isDisabled();

		await restrict.check();

		expect(await region("CN").isDisabled()).toBe(true);
		expect(await region("SG").isDisabled()).toBe(false);
		expect(
			await page.getByTestId("unroutable-regions").textContent(),
		).toContain("does not route to CN");
		expect(restrictedBefore).toBe(false);
		expect(providerBefore).toBe(true);
		expect(await provider.isDisabled()).toBe(false);
		await screenshot("policy-restricted");
	});

	it("renders the remaining pages", async () => {
		const pages = ["policy", "quickstart", "seller"];

		for (const name of pages) {
			await page.goto(`${origin}/${name}/`);
			await page.locator("main .loading").waitFor({ state: "detached" });
			expect(await page.locator(".notice.error").count()).toBe(0);
			await screenshot(name);
		}
	});

	it("links a favicon that loads", async () => {
		await page.goto(`${origin}/`);
		const href = await page.locator('link[rel="icon"]').getAttribute("href");

		const response = await fetch(new URL(href ?? "", origin));

		expect(href).toBe("/favicon.svg");
		expect(response.status).toBe(200);
		expect(response.headers.get("content-type")).toContain("image/svg+xml");
	});

	it("marks an operator session", async () => {
		await page.goto(`${origin}/`);
		await page.getByTestId("session-user").waitFor();
		const ownerView = await page.getByTestId("operator-view").count();
		const url = await createSignInLink(gateway.store, {
			workspaceId: workspace.workspaceId,
			userId: "e2e-operator",
			role: "owner",
			operator: true,
			baseUrl: origin,
			cell: "global",
		});

		await page.goto(url);
		await page.waitForURL(`${origin}/`);
		await page.getByTestId("operator-view").waitFor();

		expect(ownerView).toBe(0);
		expect(await page.getByTestId("operator-view").textContent()).toBe(
			"operator view",
		);
		await screenshot("overview-operator");
	});

	it("fits a phone screen", async () => {
		await page.setViewportSize({ width: 390, height: 844 });
		await page.goto(`${origin}/`);
		await page.getByTestId("available").waitFor();

		const overflow = await page.evaluate(
			() => document.documentElement.scrollWidth - window.innerWidth,
		);

		expect(overflow).toBeLessThanOrEqual(0);
		await screenshot("overview-phone");
	});
});
