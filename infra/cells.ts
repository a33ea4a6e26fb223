/**
 * The cells config: one entry per deployed cell. The CDK app, the portal
 * build and the local runtime all read it. Adding a cell (an EU cell, a CN
 * cell in the aws-cn partition) is a new entry here, not new code.
 */

/** Processing regions that routes declare and policies allow. */
export const PROCESSING_REGIONS = ["SG", "US", "CN", "EU", "global"] as const;
export type ProcessingRegion = (typeof PROCESSING_REGIONS)[number];

export interface CellConfig {
	/** Short id used in key prefixes (`sk-gag-<id>-…`) and stack names. */
	id: string;
	/** Human-readable name for the portal. */
	name: string;
	/** AWS region the cell deploys to. */
	region: string;
	/** AWS partition: `aws`, or `aws-cn` for a China cell. */
	partition: "aws" | "aws-cn";
	/**
	 * Processing regions this cell may route to. The workspace policy can
	 * narrow it further but never widen it.
	 */
	routableRegions: readonly ProcessingRegion[];
	/** Public API base URL once deployed; the portal links keys to it. */
	apiUrl?: string;
}

export const CELLS: readonly CellConfig[] = [
	{
		id: "sg",
		name: "Singapore",
		region: "ap-southeast-1",
		partition: "aws",
		routableRegions: ["SG"],
	},
	{
		id: "us",
		name: "United States",
		region: "us-east-1",
		partition: "aws",
		routableRegions: ["US"],
	},
	{
		id: "global",
		name: "Global",
		region: process.env.GLOBAL_CELL_REGION ?? "us-west-2",
		partition: "aws",
		routableRegions: ["SG", "US", "EU", "global"],
	},
];

/** Looks up a cell by id. @throws Error naming the known cells. */
export function getCell(id: string): CellConfig {
	const cell = CELLS.find((candidate) => candidate.id === id);
	if (!cell) {
		throw new Error(
			`Unknown cell "${id}". Known cells: ${CELLS.map((c) => c.id).join(", ")}.`,
		);
	}
	return cell;
}
