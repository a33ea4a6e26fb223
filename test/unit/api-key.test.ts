import { describe, expect, it } from "vitest";
import {
	generateApiKey,
	hashApiKey,
	hashesEqual,
	maskApiKey,
	parseApiKey,
} from "../../shared/api-key.ts";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const PREFIX_LENGTH = "sk-gag-sg-".length;

describe("generateApiKey", () => {
	it("follows the key format", () => {
		const key = generateApiKey("sg");

		expect(key).toMatch(/^sk-gag-sg-[0-9A-Za-z]{38}$/);
	});

	it("generates distinct keys", () => {
		const generated = new Set(
			Array.from({ length: 1000 }, () => generateApiKey("us")),
		);

		expect(generated.size).toBe(1000);
	});
});

describe("parseApiKey", () => {
	it("returns the cell and hash only", () => {
		const key = generateApiKey("global");

		const parsed = parseApiKey(key);

		expect(parsed).toEqual({ cell: "global", hash: hashApiKey(key) });
		expect(Object.values(parsed ?? {})).not.toContain(key);
	});

	it("rejects every one-character typo", () => {
		const key = generateApiKey("sg");

		for (let position = PREFIX_LENGTH; position < key.length; position++) {
			const original = key[position] ?? "";
			const replacement = BASE62[(BASE62.indexOf(original) + 1) % 62] ?? "";
			const typo =
				key.slice(0, position) + replacement + key.slice(position + 1);

			expect(parseApiKey(typo), `typo at ${position}`).toBeUndefined();
		}
	});

	it("rejects swapped neighbours", () => {
		const key = generateApiKey("sg");

		for (let position = PREFIX_LENGTH; position < key.length - 1; position++) {
			const left = key[position] ?? "";
			const right = key[position + 1] ?? "";
			if (left === right) continue;
			const swapped =
				key.slice(0, position) + right + left + key.slice(position + 2);

			expect(parseApiKey(swapped), `swap at ${position}`).toBeUndefined();
		}
	});

	it("rejects another cell's prefix", () => {
		const key = generateApiKey("sg");

		const moved = key.replace("sk-gag-sg-", "sk-gag-us-");

		expect(parseApiKey(moved)).toBeUndefined();
	});

	it.each([
		["an empty string", ""],
		["an OpenAI key", "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"],
		["an uppercase cell", "sk-gag-SG-0123456789012345678901234567890123456"],
		["a short secret", "sk-gag-sg-0123456789"],
	])("rejects %s", (_case, key) => {
		expect(parseApiKey(key)).toBeUndefined();
	});
});

describe("hashApiKey", () => {
	it("returns SHA-256 hex", () => {
		expect(hashApiKey("abc")).toBe(
			"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		);
	});
});

describe("maskApiKey", () => {
	it("shows four characters each side", () => {
		const key = generateApiKey("sg");

		const masked = maskApiKey(key);

		expect(masked).toBe(`${key.slice(0, 14)}…${key.slice(-4)}`);
		expect(masked).not.toContain(key.slice(14, -4));
	});

	it("hides a malformed key", () => {
		expect(maskApiKey("sk-live-secret")).toBe("sk-gag-…");
	});
});

describe("hashesEqual", () => {
	it("compares hex hashes", () => {
		const hash = hashApiKey("a");

		expect(hashesEqual(hash, hashApiKey("a"))).toBe(true);
		expect(hashesEqual(hash, hashApiKey("b"))).toBe(false);
		expect(hashesEqual(hash, hash.slice(0, 10))).toBe(false);
	});
});
