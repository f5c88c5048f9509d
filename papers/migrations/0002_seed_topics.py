"""The starting topic catalogue for ML research. Editors change it in the admin afterwards;
this migration only creates topics whose slug does not exist yet and never overwrites edits.

Specific research themes come first (they are what readers usually pick), then one broad topic
per arXiv category.
"""

from django.db import migrations

FINE_TOPICS = [
    (
        "Reinforcement learning for LLM reasoning",
        "rl-for-reasoning",
        "Training language models to reason with reinforcement learning: verifiable rewards, GRPO, long chains of thought.",
        [
            "reinforcement learning for reasoning", "reinforcement learning with verifiable rewards",
            "verifiable rewards", "RLVR", "GRPO", "group relative policy optimization",
            "large reasoning model", "reasoning models", "long chain-of-thought", "test-time scaling",
            "process reward model", "DeepSeek-R1", "R1-Zero",
        ],
        [],
    ),
    (
        "GUI agents",
        "gui-agents",
        "Agents that operate graphical interfaces: web, desktop and mobile computer use.",
        [
            "GUI agent", "GUI agents", "graphical user interface", "computer-use agent", "computer use",
            "web agent", "mobile agent", "GUI grounding", "OSWorld", "WebArena", "AndroidWorld",
            "Mind2Web", "screenshot",
        ],
        [],
    ),
    (
        "Machine unlearning",
        "machine-unlearning",
        "Removing specific data or knowledge from trained models.",
        ["machine unlearning", "unlearning", "LLM unlearning", "forget set", "right to be forgotten", "knowledge removal"],
        [],
    ),
    (
        "Video diffusion models",
        "video-diffusion",
        "Generating and editing video with diffusion models.",
        [
            "video diffusion", "video generation", "text-to-video", "image-to-video", "video editing",
            "video synthesis", "video diffusion model",
        ],
        [],
    ),
    (
        "Speculative decoding",
        "speculative-decoding",
        "Faster LLM inference by drafting tokens and verifying them in parallel.",
        [
            "speculative decoding", "speculative sampling", "draft model", "draft tokens",
            "self-speculative", "Medusa", "EAGLE", "lookahead decoding",
        ],
        [],
    ),
    (
        "Multimodal large language models",
        "multimodal-llms",
        "Language models that also see and hear: vision-language models, MLLMs, visual instruction tuning.",
        [
            "multimodal large language model", "multimodal large language models", "MLLM", "MLLMs",
            "vision-language model", "vision language model", "VLM", "VLMs", "large vision-language model",
            "LVLM", "visual instruction tuning", "multimodal LLM",
        ],
        [],
    ),
    (
        "Jailbreak attacks on LLMs",
        "jailbreaks",
        "Attacks that make aligned language models misbehave, and the defences against them.",
        [
            "jailbreak", "jailbreaking", "jailbreak attack", "adversarial prompt", "prompt injection",
            "red teaming", "red-teaming", "safety alignment", "harmful prompts",
        ],
        [],
    ),
    (
        "Hallucination",
        "hallucination",
        "When models state things that are not true: detection, measurement and mitigation.",
        ["hallucination", "hallucinations", "hallucinate", "factuality", "factual consistency", "faithfulness", "truthfulness"],
        [],
    ),
    (
        "3D Gaussian splatting",
        "gaussian-splatting",
        "Scene representation and rendering with 3D Gaussians.",
        ["gaussian splatting", "3D gaussian splatting", "3DGS", "gaussian splats", "2D gaussian splatting"],
        [],
    ),
]

CATEGORY_TOPICS = [
    ("Computer vision", "computer-vision", "Computer vision and image processing.", ["cs.CV"],
     ["computer vision", "image classification", "object detection", "semantic segmentation", "image segmentation",
      "image generation", "text-to-image", "visual recognition", "vision transformer", "pose estimation"]),
    ("Natural language processing", "nlp", "Natural language processing and language models.", ["cs.CL"],
     ["natural language processing", "NLP", "language model", "language models", "large language model", "LLM",
      "machine translation", "question answering", "text generation"]),
    ("Machine learning", "machine-learning", "Machine learning methods and theory.", ["cs.LG", "stat.ML"],
     ["machine learning", "deep learning", "representation learning", "optimization algorithm"]),
    ("Robotics", "robotics", "Robots, manipulation, locomotion and embodied agents.", ["cs.RO"],
     ["robotics", "robot", "robots", "robotic manipulation", "embodied agent", "locomotion", "vision-language-action"]),
    ("Computer graphics", "computer-graphics", "Rendering, geometry, animation and 3D content.", ["cs.GR"],
     ["computer graphics", "rendering", "neural rendering", "mesh generation", "3D reconstruction", "avatar"]),
    ("Information theory", "information-theory", "Information theory and communications.", ["cs.IT", "math.IT"],
     ["information theory", "channel coding", "wireless communication", "mutual information"]),
    ("Image and video processing", "image-video-processing", "Signal processing for images and video.", ["eess.IV"],
     ["image processing", "video processing", "image restoration", "super-resolution", "image denoising", "medical imaging"]),
    ("Human-computer interaction", "hci", "How people use and work with computing and AI systems.", ["cs.HC"],
     ["human-computer interaction", "user study", "user interface", "human-AI interaction"]),
    ("Information retrieval and recommendation", "information-retrieval", "Search, retrieval and recommender systems.", ["cs.IR"],
     ["information retrieval", "retrieval-augmented generation", "RAG", "recommender system", "recommendation", "search engine", "dense retrieval"]),
    ("AI ethics and society", "ai-and-society", "AI ethics, policy and societal impact.", ["cs.CY"],
     ["AI ethics", "AI policy", "fairness", "societal impact", "AI governance"]),
    ("Multi-agent systems", "multi-agent-systems", "Many agents cooperating or competing.", ["cs.MA"],
     ["multi-agent", "multi-agent system", "multi-agent systems", "agent collaboration", "multi-agent reinforcement learning"]),
    ("Multimedia", "multimedia", "Multimedia content and systems.", ["cs.MM"], ["multimedia", "audio-visual"]),
    ("Game theory", "game-theory", "Game theory and mechanism design.", ["cs.GT"],
     ["game theory", "mechanism design", "nash equilibrium", "auction"]),
    ("Computational science", "computational-science", "Computational science and engineering.", ["cs.CE"],
     ["computational science", "scientific computing", "physics-informed"]),
    ("Security and privacy", "security-privacy", "Security, privacy and cryptography.", ["cs.CR"],
     ["security", "privacy", "differential privacy", "adversarial attack", "backdoor", "cryptography"]),
    ("Sound and audio", "sound-audio", "Sound and audio processing, music.", ["cs.SD"],
     ["audio", "music generation", "audio generation", "sound event"]),
    ("Speech", "speech", "Speech recognition, synthesis and spoken language.", ["eess.AS"],
     ["speech recognition", "text-to-speech", "speech synthesis", "spoken language", "ASR", "TTS"]),
    ("Software engineering and code", "code", "Software engineering and code generation.", ["cs.SE"],
     ["code generation", "software engineering", "program synthesis", "code LLM", "SWE-bench", "coding agent"]),
    ("Signal processing", "signal-processing", "Signal processing.", ["eess.SP"], ["signal processing", "radar", "beamforming"]),
    ("Control systems", "control-systems", "Control systems and systems engineering.", ["eess.SY", "cs.SY"],
     ["control system", "model predictive control", "controller design"]),
    ("Databases", "databases", "Databases and data management.", ["cs.DB"],
     ["database", "databases", "data management", "text-to-SQL", "SQL"]),
    ("Neural and evolutionary computation", "neural-evolutionary", "Neural and evolutionary computation.", ["cs.NE"],
     ["evolutionary algorithm", "genetic algorithm", "spiking neural network", "neuroevolution"]),
    ("Logic in computer science", "logic", "Logic, formal methods and verification.", ["cs.LO"],
     ["formal verification", "theorem proving", "formal methods", "temporal logic"]),
    ("Social and information networks", "social-networks", "Social and information networks.", ["cs.SI"],
     ["social network", "social networks", "graph mining", "misinformation", "social media"]),
    ("Distributed and parallel computing", "distributed-computing", "Distributed, parallel and cluster computing; ML systems.", ["cs.DC"],
     ["distributed training", "parallel computing", "federated learning", "inference serving", "GPU cluster"]),
    ("Optimization and control", "optimization", "Mathematical optimization and control.", ["math.OC"],
     ["convex optimization", "stochastic optimization", "optimal control", "gradient descent"]),
    ("Computational neuroscience", "neuroscience", "Neurons and cognition, computational neuroscience.", ["q-bio.NC"],
     ["neuroscience", "brain", "neural recordings", "cognitive neuroscience"]),
]


def seed(apps, schema_editor):
    Topic = apps.get_model("papers", "Topic")
    existing = set(Topic.objects.values_list("slug", flat=True))
    names = set(Topic.objects.values_list("name", flat=True))
    rows = [(n, s, d, k, c) for n, s, d, k, c in FINE_TOPICS]
    rows += [(n, s, d, k, c) for n, s, d, c, k in CATEGORY_TOPICS]
    Topic.objects.bulk_create(
        Topic(name=name, slug=slug, description=desc, keywords=keywords, categories=categories, position=10 * i)
        for i, (name, slug, desc, keywords, categories) in enumerate(rows, 1)
        if slug not in existing and name not in names
    )


def unseed(apps, schema_editor):
    Topic = apps.get_model("papers", "Topic")
    slugs = [row[1] for row in FINE_TOPICS + CATEGORY_TOPICS]
    Topic.objects.filter(slug__in=slugs, paper_links__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("papers", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
