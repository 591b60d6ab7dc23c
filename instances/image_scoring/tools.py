"""Image Scoring's two tools: ``generate_image`` (the image model, over real HTTP) and
``score_image`` (a pixel inspection of the latest image).

``generate_image`` calls the run's image model through google-genai's own client
(``client.aio.models.generate_images``: Vertex ``:predict``) at the run's Gemini base URL
(the simulated service, or Vertex in express mode with an API key), stores the PNG in the
session state (``image_b64``, with ``image_name`` and ``image_prompt``) and returns its
name and size. ``score_image`` reads that PNG back from the state and checks the
requirements the scorer lists against its pixels (:mod:`.pixels`). Both are made per run
by :func:`make_tools`, bound to the run's endpoint and image model.
"""

from __future__ import annotations

import base64
import warnings
from collections.abc import Callable
from typing import Any

from .pixels import check_requirements, inspect_png
from .prompts import parse_requirements

__all__ = ["make_tools", "STATE_IMAGE", "STATE_NAME", "STATE_PROMPT", "STATE_COUNT"]

STATE_IMAGE = "image_b64"
"""Session-state key of the latest image (base64 PNG)."""
STATE_NAME = "image_name"
STATE_PROMPT = "image_prompt"
STATE_COUNT = "image_count"


def make_tools(base_url: str, api_key: str, model: str, attempts: int = 1) -> list[Callable[..., Any]]:
    """``[generate_image, score_image]`` bound to the image model ``model`` at ``base_url``
    (google-genai retries 429/5xx up to ``attempts`` times)."""
    from google import genai
    from google.adk.tools.tool_context import ToolContext
    from google.genai import types

    retry = types.HttpRetryOptions(attempts=attempts, initial_delay=0.05, max_delay=1.0) if attempts > 1 else None
    client = genai.Client(vertexai=True, api_key=api_key,
                          http_options=types.HttpOptions(base_url=base_url, retry_options=retry))

    async def generate_image(prompt: str, tool_context: ToolContext) -> dict:
        """Render an image for a prompt with the image generation model.

        Args:
            prompt: what the image should show (elements with count, colour and shape; the background).

        Returns:
            The stored image's file name, its size in bytes and the prompt it was made from.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # generate_images is deprecated in favour of native image models
            reply = await client.aio.models.generate_images(
                model=model, prompt=prompt, config=types.GenerateImagesConfig(number_of_images=1))
        images = reply.generated_images or []
        data = images[0].image.image_bytes if images and images[0].image else None
        if not data:
            return {"error": "the image model returned no image"}
        n = int(tool_context.state.get(STATE_COUNT, 0)) + 1
        name = f"image-{n}.png"
        tool_context.state[STATE_COUNT] = n
        tool_context.state[STATE_IMAGE] = base64.b64encode(data).decode("ascii")
        tool_context.state[STATE_NAME] = name
        tool_context.state[STATE_PROMPT] = prompt
        return {"image": name, "bytes": len(data), "prompt": prompt}

    def score_image(requirements: list[str], tool_context: ToolContext) -> dict:
        """Inspect the latest generated image's pixels against the brief's requirements.

        Args:
            requirements: the brief's requirements, one string each (e.g. "two red circles", "a yellow background").

        Returns:
            One check per requirement (what the image shows, whether it is met), and passed/total.
        """
        encoded = tool_context.state.get(STATE_IMAGE)
        if not encoded:
            return {"error": "no image has been generated yet"}
        wanted = parse_requirements("\n".join(str(r) for r in requirements))
        if not wanted:
            return {"error": "no requirement could be read; write each as '<count> <colour> <shape>' or "
                             "'a <colour> background'"}
        scene = inspect_png(base64.b64decode(encoded))
        checks = check_requirements(scene, wanted)
        return {"image": tool_context.state.get(STATE_NAME), "checks": checks,
                "passed": sum(c["ok"] for c in checks), "total": len(checks)}

    return [generate_image, score_image]
