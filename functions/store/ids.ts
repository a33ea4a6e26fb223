/**
 * Identifiers. Every id is, or ends in, a ULID, so ids sort by creation time
 * and a sort-key range over them is a time range. Ids shown to people carry a
 * type prefix (`ws_`, `key_`, `req_`, `rcpt_`, `pur_`). Ledger entries and
 * audit events of account changes appear only inside sort keys, so their
 * ids are bare ULIDs.
 */
import { encodeTime, monotonicFactory } from "ulid";

// Monotonic within a process, so ids made in the same millisecond still sort
// in creation order.
const nextUlid = monotonicFactory();

export const newWorkspaceId = (): string => `ws_${nextUlid()}`;
export const newKeyId = (): string => `key_${nextUlid()}`;
export const newRequestId = (): string => `req_${nextUlid()}`;
export const newReceiptId = (): string => `rcpt_${nextUlid()}`;
export const newPurchaseId = (): string => `pur_${nextUlid()}`;
export const newLedgerEntryId = (): string => nextUlid();
export const newAuditEventId = (): string => nextUlid();

const ULID_RANDOM_LENGTH = 16;

/**
 * Returns the smallest and largest ULIDs of a millisecond, for sort-key
 * ranges: every ULID made at `time` sorts between the two.
 */
export function ulidBoundsAt(time: Date): { first: string; last: string } {
	const encoded = encodeTime(time.getTime(), 10);
	return {
		first: encoded + "0".repeat(ULID_RANDOM_LENGTH),
		last: encoded + "Z".repeat(ULID_RANDOM_LENGTH),
	};
}
