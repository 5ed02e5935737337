"""First run, no API key needed: start the bundled mock upstream and use llmrelay as LiteLLM.

    pip install . && python examples/quickstart.py
"""

import asyncio

import llmrelay as litellm
from llmrelay.mock import MockServer

server = MockServer()  # an OpenAI-compatible mock provider on a free local port
upstream = {"api_base": server.base_url + "/v1", "api_key": "sk-anything"}
messages = [{"role": "user", "content": "Say hello"}]

response = litellm.completion(model="openai/gpt-4o-mini", messages=messages, **upstream)
print("completion:", response.choices[0].message.content)
print("  usage:", response.usage.prompt_tokens, "+", response.usage.completion_tokens, "tokens")
print("  cost: $%.8f" % response._hidden_params["response_cost"])

print("stream:    ", end="")
for chunk in litellm.completion(model="openai/gpt-4o-mini", messages=messages, stream=True, **upstream):
    print(chunk.choices[0].delta.content or "", end="", flush=True)
print()


async def main() -> None:
    replies = await asyncio.gather(
        *[litellm.acompletion(model="openai/gpt-4o-mini", messages=messages, **upstream) for _ in range(100)]
    )
    print("acompletion x100:", len(replies), "replies")


asyncio.run(main())

vectors = litellm.embedding(model="openai/text-embedding-3-small", input=["a", "b"], **upstream)
print("embedding:", len(vectors.data), "vectors of", len(vectors.data[0]["embedding"]))
print("token_counter:", litellm.token_counter(model="gpt-4o", messages=messages), "tokens")
print("mock_response cost:", litellm.completion(model="gpt-4o", messages=messages, mock_response="hi")._hidden_params["response_cost"])

try:
    litellm.completion(model="openai/gpt-4o-mini", messages=messages,
                       extra_headers={"x-mock-status": "429", "x-mock-retry-after": "0"}, **upstream)
except litellm.RateLimitError as error:  # also an openai.RateLimitError
    print("error:", type(error).__name__, error.status_code)

server.stop()
