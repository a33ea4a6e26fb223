import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findDeployedCell } from "../../infra/admin/deployed-store.ts";

/** Stack outputs the loopback CloudFormation endpoint returns, by stack name. */
const STACK_OUTPUTS: Record<string, Record<string, string>> = {
	"gag-sg": {
		ApiUrl: "https://example.invalid/live/",
		TableName: "gag-sg-Table-1",
	},
	"gag-us": { ApiUrl: "https://example.invalid/live/" },
};

const requests: { body: string; authorization: string | undefined }[] = [];
let server: Server;
let endpoint: string;

beforeAll(async () => {
	server = createServer((request, response) => {
		let body = "";
		request.on("data", (chunk) => {
			body += chunk;
		});
		request.on("end", () => {
			requests.push({ body, authorization: request.headers.authorization });
			const stackName = new URLSearchParams(body).get("StackName") ?? "";
			const outputs = STACK_OUTPUTS[stackName];
			response.setHeader("content-type", "text/xml");
			if (!outputs) {
				response.statusCode = 400;
				response.end(
					`<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${stackName} does not exist</Message></Error><RequestId>r1</RequestId></ErrorResponse>`,
				);
				return;
			}
			const members = Object.entries(outputs)
				.map(
					([key, value]) =>
						`<member><OutputKey>${key}</OutputKey><OutputValue>${value}</OutputValue></member>`,
				)
				.join("");
			response.end(
				`<DescribeStacksResponse><DescribeStacksResult><Stacks><member><StackName>${stackName}</StackName><StackStatus>CREATE_COMPLETE</StackStatus><CreationTime>2026-12-01T00:00:00Z</CreationTime><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></DescribeStacksResponse>`,
			);
		});
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
	await new Promise((resolve) => server.close(resolve));
});

const credentials = { accessKeyId: "local", secretAccessKey: "local" };

describe("findDeployedCell", () => {
	it("reads the table output", async () => {
		const cell = await findDeployedCell("sg", { endpoint, credentials });

		expect(cell).toEqual({
			stackName: "gag-sg",
			tableName: "gag-sg-Table-1",
			region: "ap-southeast-1",
		});
	});

	it("asks for the cell's stack in its region", async () => {
		requests.length = 0;

		await findDeployedCell("sg", { endpoint, credentials });

		const body = new URLSearchParams(requests[0]?.body);
		expect(body.get("Action")).toBe("DescribeStacks");
		expect(body.get("StackName")).toBe("gag-sg");
		expect(requests[0]?.authorization).toContain(
			"/ap-southeast-1/cloudformation/",
		);
	});

	it("rejects a stack without the output", async () => {
		await expect(
			findDeployedCell("us", { endpoint, credentials }),
		).rejects.toThrow(/gag-us in us-east-1 has no TableName output/);
	});

	it("names the missing stack", async () => {
		await expect(
			findDeployedCell("global", { endpoint, credentials }),
		).rejects.toThrow(/Could not read stack gag-global .*does not exist/);
	});

	it("rejects an unknown cell", async () => {
		await expect(
			findDeployedCell("mars", { endpoint, credentials }),
		).rejects.toThrow(/Unknown cell "mars"/);
	});
});
