/**
 * API key format: `sk-gag-<cell>-<body><checksum>`.
 *
 * - `cell` is the key's home cell id (lowercase letters and digits).
 * - `body` is 32 random base62 characters (about 190 bits).
 * - `checksum` is the CRC-32 of everything before it, as 6 base62 characters,
 *   so a mistyped key is rejected without a lookup and secret scanners can
 *   tell a real key from a look-alike.
 *
 * Only the SHA-256 hash of the whole key is stored; the key is shown once.
 */
import { createHash, randomInt, timingSafeEqual } from "node:crypto";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BODY_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const KEY_PATTERN = /^sk-gag-([a-z][a-z0-9]{1,15})-([0-9A-Za-z]{38})$/;

/** Key scopes the gateway accepts. */
export const KEY_SCOPES = [
	"chat.completions",
	"models.read",
	"usage.read",
] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

export interface ParsedApiKey {
	cell: string;
	/** SHA-256 of the whole key, hex encoded: the table's lookup key. */
	hash: string;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
	let c = n;
	for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
	return c >>> 0;
});

function crc32(text: string): number {
	let crc = 0xffffffff;
	for (const byte of Buffer.from(text, "utf8")) {
		crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
	}
	return (crc ^ 0xffffffff) >>> 0;
}

function toBase62(value: number, length: number): string {
	let text = "";
	let rest = value;
	for (let i = 0; i < length; i++) {
		text = BASE62[rest % 62] + text;
		rest = Math.floor(rest / 62);
	}
	return text;
}

function checksumOf(prefixAndBody: string): string {
	return toBase62(crc32(prefixAndBody), CHECKSUM_LENGTH);
}

/** Hashes a whole key with SHA-256 (hex), the only form the table stores. */
export function hashApiKey(key: string): string {
	return createHash("sha256").update(key, "utf8").digest("hex");
}

/** Generates a new key for a cell; the caller shows it once and stores its hash. */
export function generateApiKey(cell: string): string {
	let body = "";
	for (let i = 0; i < BODY_LENGTH; i++) body += BASE62[randomInt(62)];
	const prefixAndBody = `sk-gag-${cell}-${body}`;
	return prefixAndBody + checksumOf(prefixAndBody);
}

/**
 * Checks a key's format and checksum without any lookup. The checksum is
 * compared in constant time.
 *
 * @returns the cell and hash, or `undefined` when the key is malformed.
 */
export function parseApiKey(key: string): ParsedApiKey | undefined {
	const match = KEY_PATTERN.exec(key);
	if (!match) return undefined;
	const cell = match[1] as string;
	const rest = match[2] as string;
	const prefixAndBody = `sk-gag-${cell}-${rest.slice(0, BODY_LENGTH)}`;
	const given = Buffer.from(rest.slice(BODY_LENGTH));
	const expected = Buffer.from(checksumOf(prefixAndBody));
	if (!timingSafeEqual(given, expected)) return undefined;
	return { cell, hash: hashApiKey(key) };
}

/** Masked form that is safe to show and log: `sk-gag-sg-AbCd…wXyZ`. */
export function maskApiKey(key: string): string {
	const match = KEY_PATTERN.exec(key);
	if (!match) return "sk-gag-…";
	const rest = match[2] as string;
	return `sk-gag-${match[1]}-${rest.slice(0, 4)}…${rest.slice(-4)}`;
}

/** Compares two hex hashes in constant time. */
export function hashesEqual(a: string, b: string): boolean {
	const left = Buffer.from(a, "hex");
	const right = Buffer.from(b, "hex");
	return left.length === right.length && timingSafeEqual(left, right);
}
