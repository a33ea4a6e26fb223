import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import type { Store } from "../../functions/store/client.ts";
import { transactWrite } from "../../functions/store/transact.ts";

// DynamoDB Local runs transactions one at a time, so it never cancels one
// for a conflict. These cases feed the retry loop the cancellations the
// service returns instead.
function cancellation(codes: string[]): TransactionCanceledException {
	return new TransactionCanceledException({
		message: "Transaction cancelled",
		$metadata: {},
		CancellationReasons: codes.map((Code) => ({ Code })),
	});
}

function failingStore(errors: Error[]): { store: Store; calls: () => number } {
	let calls = 0;
	const send = async () => {
		calls++;
		const error = errors.shift();
		if (error) throw error;
		return {};
	};
	return {
		store: { doc: { send }, tableName: "unused" } as unknown as Store,
		calls: () => calls,
	};
}

describe("transactWrite", () => {
	it("retries conflicts until success", async () => {
		const { store, calls } = failingStore([
			cancellation(["TransactionConflict", "None"]),
			cancellation(["None", "TransactionConflict"]),
		]);

		await transactWrite(store, []);

		expect(calls()).toBe(3);
	});

	it("never retries a failed condition", async () => {
		const error = cancellation([
			"ConditionalCheckFailed",
			"TransactionConflict",
		]);
		const { store, calls } = failingStore([error]);

		const thrown = await transactWrite(store, []).catch((e) => e);

		expect(thrown).toBe(error);
		expect(calls()).toBe(1);
	});

	it("gives up after ten attempts", async () => {
		const errors = Array.from({ length: 12 }, () =>
			cancellation(["TransactionConflict"]),
		);
		const { store, calls } = failingStore(errors);

		const thrown = await transactWrite(store, []).catch((e) => e);

		expect(thrown).toBeInstanceOf(TransactionCanceledException);
		expect(calls()).toBe(10);
	});
});
