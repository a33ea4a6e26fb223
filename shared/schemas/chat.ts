/**
 * Schema of an OpenAI chat completions request. Known fields are checked,
 * so a bad value gets a 400 that names it. Unknown fields pass through,
 * because OpenAI clients add fields faster than any gateway.
 */
import { z } from "zod";

const textPart = z.object({ type: z.literal("text"), text: z.string() });
const imagePart = z.object({
	type: z.literal("image_url"),
	image_url: z.object({ url: z.string(), detail: z.string().optional() }),
});
const contentPart = z.union([
	textPart,
	imagePart,
	z.looseObject({ type: z.string() }),
]);
const content = z.union([z.string(), z.array(contentPart)]);

const toolCall = z.looseObject({
	id: z.string(),
	type: z.literal("function"),
	function: z.object({ name: z.string(), arguments: z.string() }),
});

const message = z.discriminatedUnion("role", [
	z.looseObject({
		role: z.literal("system"),
		content,
		name: z.string().optional(),
	}),
	z.looseObject({
		role: z.literal("developer"),
		content,
		name: z.string().optional(),
	}),
	z.looseObject({
		role: z.literal("user"),
		content,
		name: z.string().optional(),
	}),
	z.looseObject({
		role: z.literal("assistant"),
		content: content.nullable().optional(),
		tool_calls: z.array(toolCall).optional(),
		name: z.string().optional(),
	}),
	z.looseObject({
		role: z.literal("tool"),
		content,
		tool_call_id: z.string(),
	}),
]);

const tool = z.looseObject({
	type: z.literal("function"),
	function: z.looseObject({
		name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
		description: z.string().optional(),
		parameters: z.record(z.string(), z.unknown()).optional(),
		strict: z.boolean().nullable().optional(),
	}),
});

const toolChoice = z.union([
	z.enum(["none", "auto", "required"]),
	z.object({
		type: z.literal("function"),
		function: z.object({ name: z.string() }),
	}),
]);

/** Upper bound on output tokens a client may ask for. */
export const MAX_OUTPUT_TOKENS_LIMIT = 1_000_000;

export const chatCompletionRequestSchema = z.looseObject({
	model: z.string().min(1).max(200),
	messages: z.array(message).min(1).max(10_000),
	stream: z.boolean().nullable().optional(),
	stream_options: z
		.looseObject({ include_usage: z.boolean().optional() })
		.nullable()
		.optional(),
	max_tokens: z
		.number()
		.positive()
		.max(MAX_OUTPUT_TOKENS_LIMIT)
		.int()
		.nullable()
		.optional(),
	max_completion_tokens: z
		.number()
		.positive()
		.max(MAX_OUTPUT_TOKENS_LIMIT)
		.int()
		.nullable()
		.optional(),
	temperature: z.number().min(0).max(2).nullable().optional(),
	top_p: z.number().min(0).max(1).nullable().optional(),
	n: z.number().int().min(1).max(8).nullable().optional(),
	stop: z
		.union([z.string(), z.array(z.string()).max(4)])
		.nullable()
		.optional(),
	seed: z.number().int().nullable().optional(),
	user: z.string().max(256).optional(),
	tools: z.array(tool).max(128).optional(),
	tool_choice: toolChoice.optional(),
	parallel_tool_calls: z.boolean().optional(),
	response_format: z
		.looseObject({
			type: z.enum(["text", "json_object", "json_schema"]),
		})
		.optional(),
	presence_penalty: z.number().min(-2).max(2).nullable().optional(),
	frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
	logit_bias: z.record(z.string(), z.number()).nullable().optional(),
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;
export type ChatMessage = z.infer<typeof message>;

/** Output token limit the client asked for, from either field. */
export function requestedMaxTokens(
	request: ChatCompletionRequest,
): number | undefined {
	return request.max_completion_tokens ?? request.max_tokens ?? undefined;
}
