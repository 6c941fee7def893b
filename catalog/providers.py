"""Human names and one-line descriptions for the providers in LiteLLM's model map.

The map only knows providers by their LiteLLM identifier (``together_ai``,
``vertex_ai``). The providers teams use most get a hand-written display name and
description in ``KNOWN_PROVIDERS``. Every other provider gets a generated name
(words title-cased, known acronyms fixed: ``fal_ai`` -> "Fal AI") and the
description "Models served by <name> through LiteLLM.", so a provider LiteLLM
adds tomorrow still shows up sensibly without a code change.
"""

from __future__ import annotations

import re

# name -> (display name, description). Keep descriptions to one factual sentence.
KNOWN_PROVIDERS: dict[str, tuple[str, str]] = {
    "ai21": ("AI21 Labs", "Jamba models from the AI21 Labs API."),
    "amazon_nova": ("Amazon Nova", "Amazon's Nova models through the Amazon Nova API."),
    "anthropic": ("Anthropic", "Claude models from the Anthropic API."),
    "anyscale": ("Anyscale", "Open-weight models hosted on Anyscale Endpoints."),
    "assemblyai": ("AssemblyAI", "Speech-to-text models from AssemblyAI."),
    "aws_polly": ("Amazon Polly", "Text-to-speech voices from Amazon Polly."),
    "azure": ("Azure OpenAI", "OpenAI models deployed in your Azure OpenAI Service resource."),
    "azure_ai": ("Azure AI Foundry", "Models from many vendors deployed through Azure AI Foundry."),
    "azure_text": ("Azure OpenAI (text completion)", "Legacy text-completion models deployed in Azure OpenAI Service."),
    "baseten": ("Baseten", "Models deployed on Baseten's inference platform."),
    "bedrock": (
        "Amazon Bedrock",
        "Foundation models from Anthropic, Amazon, Meta, Mistral, Cohere and others, served by Amazon Bedrock.",
    ),
    "bing_grounding": ("Bing grounding", "Web search results from Bing, for grounding model answers."),
    "black_forest_labs": ("Black Forest Labs", "FLUX image generation models from Black Forest Labs."),
    "cerebras": ("Cerebras", "Open-weight models served on Cerebras inference hardware."),
    "chatgpt": ("ChatGPT (subscription)", "OpenAI models used through a ChatGPT subscription sign-in."),
    "cloudflare": ("Cloudflare Workers AI", "Models run on Cloudflare's Workers AI platform."),
    "codestral": ("Codestral", "Mistral's Codestral code models through the dedicated Codestral endpoint."),
    "cohere": ("Cohere", "Command, Embed and Rerank models from Cohere."),
    "cohere_chat": ("Cohere (chat)", "Cohere's Command models through the Cohere chat API."),
    "dashscope": ("Alibaba Cloud DashScope", "Qwen and other models from Alibaba Cloud Model Studio (DashScope)."),
    "databricks": ("Databricks", "Foundation models served by Databricks Model Serving."),
    "dataforseo": ("DataForSEO", "Web search results from the DataForSEO API."),
    "deepgram": ("Deepgram", "Speech-to-text and text-to-speech models from Deepgram."),
    "deepinfra": ("DeepInfra", "Open-weight models hosted on DeepInfra."),
    "deepseek": ("DeepSeek", "DeepSeek's chat and reasoning models from the DeepSeek API."),
    "duckduckgo": ("DuckDuckGo", "Web search results from DuckDuckGo."),
    "elevenlabs": ("ElevenLabs", "Speech synthesis and transcription models from ElevenLabs."),
    "exa_ai": ("Exa", "Web search built for AI applications, from Exa."),
    "fal_ai": ("fal.ai", "Image and video generation models hosted on fal.ai."),
    "featherless_ai": ("Featherless AI", "Open-weight models served by Featherless AI."),
    "firecrawl": ("Firecrawl", "Web search and scraping from Firecrawl."),
    "fireworks_ai": ("Fireworks AI", "Open-weight models served by the Fireworks AI inference platform."),
    "friendliai": ("FriendliAI", "Open-weight models served by FriendliAI."),
    "gemini": ("Google AI Studio (Gemini)", "Gemini models through the Gemini API of Google AI Studio."),
    "gigachat": ("GigaChat", "GigaChat models from Sber."),
    "github_copilot": ("GitHub Copilot", "Models available through a GitHub Copilot subscription."),
    "google_pse": ("Google Programmable Search", "Web search results from a Google Programmable Search Engine."),
    "gradient_ai": ("DigitalOcean Gradient AI", "Models served by DigitalOcean's Gradient AI platform."),
    "groq": ("Groq", "Open-weight models served with low latency on Groq's inference platform."),
    "heroku": ("Heroku", "Models served by Heroku Managed Inference."),
    "huggingface": ("Hugging Face", "Models served through Hugging Face Inference Providers and Endpoints."),
    "hyperbolic": ("Hyperbolic", "Open-weight models served by Hyperbolic."),
    "inception": ("Inception Labs", "Mercury diffusion language models from Inception Labs."),
    "jina_ai": ("Jina AI", "Embedding and rerank models from Jina AI."),
    "lambda_ai": ("Lambda", "Open-weight models from Lambda's inference API."),
    "meta": ("Meta", "Models served by Meta."),
    "meta_llama": ("Meta Llama API", "Llama models from Meta's Llama API."),
    "minimax": ("MiniMax", "Text, speech and video models from MiniMax."),
    "mistral": ("Mistral AI", "Mistral's models from the Mistral AI platform API."),
    "moonshot": ("Moonshot AI", "Kimi models from Moonshot AI."),
    "nebius": ("Nebius AI Studio", "Open-weight models hosted on Nebius AI Studio."),
    "nlp_cloud": ("NLP Cloud", "Models served by NLP Cloud."),
    "novita": ("Novita AI", "Open-weight models hosted on Novita AI."),
    "nscale": ("Nscale", "Open-weight models served by Nscale."),
    "nvidia_nim": ("NVIDIA NIM", "Models served through NVIDIA NIM microservices."),
    "oci": ("Oracle Cloud (OCI) Generative AI", "Models served by Oracle Cloud Infrastructure Generative AI."),
    "ollama": ("Ollama", "Models running on a self-hosted Ollama server."),
    "hosted_vllm": ("vLLM (self-hosted)", "Models served by your own vLLM server (OpenAI-compatible, rerank too)."),
    "infinity": ("Infinity (self-hosted)", "Embedding and rerank models served by your own Infinity server."),
    "lm_studio": ("LM Studio", "Models served by a local LM Studio server."),
    "llamafile": ("llamafile", "Models served by a local llamafile."),
    "openai": ("OpenAI", "GPT, reasoning, embedding, image, speech and moderation models from the OpenAI API."),
    "openrouter": ("OpenRouter", "Models from many providers through OpenRouter's unified API."),
    "ovhcloud": ("OVHcloud AI Endpoints", "Open-weight models served by OVHcloud AI Endpoints."),
    "perplexity": ("Perplexity", "Perplexity's Sonar models with built-in web search."),
    "recraft": ("Recraft", "Image generation models from Recraft."),
    "replicate": ("Replicate", "Open-source models run on Replicate."),
    "runwayml": ("Runway", "Video and image generation models from Runway."),
    "sagemaker": ("Amazon SageMaker", "Models deployed to your own Amazon SageMaker endpoints."),
    "sambanova": ("SambaNova", "Open-weight models served on SambaNova Cloud."),
    "scaleway": ("Scaleway", "Open-weight models served by Scaleway Generative APIs."),
    "searxng": ("SearXNG", "Web search results from a SearXNG metasearch instance."),
    "serper": ("Serper", "Google search results through the Serper API."),
    "snowflake": ("Snowflake Cortex", "Models served by Snowflake Cortex AI."),
    "stability": ("Stability AI", "Stable Diffusion image models from the Stability AI API."),
    "tavily": ("Tavily", "Web search built for AI agents, from Tavily."),
    "text-completion-codestral": ("Codestral (text completion)", "Codestral fill-in-the-middle code completion."),
    "text-completion-inception": ("Inception Labs (text completion)", "Mercury models through the completion API."),
    "text-completion-openai": ("OpenAI (text completion)", "Legacy completion models from the OpenAI API."),
    "together_ai": ("Together AI", "Open-weight models hosted by Together AI."),
    "v0": ("v0", "Models from Vercel's v0 API."),
    "vercel_ai_gateway": ("Vercel AI Gateway", "Models from many providers through Vercel's AI Gateway."),
    "vertex_ai": (
        "Google Vertex AI",
        "Gemini and partner models (Claude, Llama, Mistral and others) served by Google Cloud Vertex AI.",
    ),
    "volcengine": ("Volcano Engine", "Doubao and other models from ByteDance's Volcano Engine."),
    "voyage": ("Voyage AI", "Embedding and rerank models from Voyage AI."),
    "wandb": ("W&B Inference", "Open-weight models hosted by Weights & Biases Inference."),
    "watsonx": ("IBM watsonx.ai", "Granite and partner models served by IBM watsonx.ai."),
    "xai": ("xAI", "Grok models from the xAI API."),
    "xiaomi_mimo": ("Xiaomi MiMo", "MiMo models from Xiaomi."),
    "you_com": ("You.com", "Web search results from the You.com API."),
    "zai": ("Z.ai", "GLM models from Z.ai (Zhipu AI)."),
}

# Words that read wrong when merely capitalised.
_ACRONYMS = {
    "ai": "AI",
    "api": "API",
    "aws": "AWS",
    "clf": "CLF",
    "eu": "EU",
    "gmi": "GMI",
    "gpu": "GPU",
    "ibm": "IBM",
    "llm": "LLM",
    "nim": "NIM",
    "oci": "OCI",
    "pse": "PSE",
    "sap": "SAP",
    "scx": "SCX",
}


def display_name(name: str) -> str:
    """The name a person reads: hand-written when known, otherwise derived from the identifier."""
    if name in KNOWN_PROVIDERS:
        return KNOWN_PROVIDERS[name][0]
    words = [w for w in re.split(r"[_\-\s]+", name) if w]
    return " ".join(_ACRONYMS.get(w.lower(), w[:1].upper() + w[1:]) for w in words) or name


def description(name: str) -> str:
    """One sentence saying what the provider offers."""
    if name in KNOWN_PROVIDERS:
        return KNOWN_PROVIDERS[name][1]
    return f"Models served by {display_name(name)} through LiteLLM."
