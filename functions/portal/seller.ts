/**
 * The seller of record: the reseller that sells Service Credit and issues
 * receipts. Configured per deployment in `SELLER_OF_RECORD` (JSON).
 */
import { z } from "zod";

export const sellerSchema = z.object({
	name: z.string().min(1).default("Service Credit reseller"),
	/** Legal address as printed on receipts. */
	address: z.string().default(""),
	country: z.string().default(""),
	taxId: z.string().default(""),
	supportEmail: z.string().default(""),
	website: z.string().default(""),
	/** Operator of the platform that the credit is spent on. */
	platform: z
		.string()
		.default(
			"Global AI Gateway: an OpenAI-compatible API that routes each request to a compliant provider and meters it in micro-USD.",
		),
});

export type SellerOfRecord = z.output<typeof sellerSchema>;

/**
 * Reads the seller of record, filling defaults for missing fields.
 *
 * @throws Error naming the invalid field when the JSON is malformed, so a
 *   misconfigured deployment fails loudly rather than printing wrong receipts.
 */
export function readSellerOfRecord(
	raw = process.env.SELLER_OF_RECORD,
): SellerOfRecord {
	let data: unknown = {};
	if (raw?.trim()) {
		try {
			data = JSON.parse(raw);
		} catch {
			throw new Error(
				'SELLER_OF_RECORD is not valid JSON: set it to an object such as {"name":"Example Pte. Ltd."}.',
			);
		}
	}
	const result = sellerSchema.safeParse(data);
	if (!result.success) {
		const problems = result.error.issues
			.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
			.join("; ");
		throw new Error(`SELLER_OF_RECORD is invalid: ${problems}.`);
	}
	return result.data;
}
