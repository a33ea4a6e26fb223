/**
 * Vitest global setup: starts one in-memory DynamoDB Local for the whole run
 * and creates the test table in it. Every test file reads the endpoint and
 * table name from `process.env` (inherited by the forked workers, so
 * `storeFromEnvironment()` works unchanged) or from `inject()`.
 */
import type { TestProject } from "vitest/node";
import { createTable } from "../../infra/local/create-table.ts";
import {
	localDynamoDBClient,
	startDynamoDBLocal,
} from "../../infra/local/dynamodb-local.ts";

export const TEST_TABLE_NAME = "gag-test";

declare module "vitest" {
	export interface ProvidedContext {
		dynamodbEndpoint: string;
		tableName: string;
	}
}

export default async function setup(
	project: TestProject,
): Promise<() => Promise<void>> {
	const dynamodb = await startDynamoDBLocal();
	const client = localDynamoDBClient(dynamodb.endpoint);
	try {
		await createTable(client, TEST_TABLE_NAME);
	} catch (error) {
		await dynamodb.stop();
		throw error;
	} finally {
		client.destroy();
	}

	process.env.DYNAMODB_ENDPOINT = dynamodb.endpoint;
	process.env.TABLE_NAME = TEST_TABLE_NAME;
	project.provide("dynamodbEndpoint", dynamodb.endpoint);
	project.provide("tableName", TEST_TABLE_NAME);

	return () => dynamodb.stop();
}
