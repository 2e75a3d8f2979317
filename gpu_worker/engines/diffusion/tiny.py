"""Random-weight SDXL models, built offline: tiny ones for tests and CPU development, and
full-size ones (the published SDXL base shapes) for the GPU benchmark on a machine without
the real weights.

Same classes and file layout as a real SDXL checkout (`save_pretrained`), so they load
through the production code. Nothing is downloaded: the tokenizer's vocabulary is
generated here (characters only, no merges), the weights are random from a fixed seed.
A tiny model renders 256 px in 4 steps well under a second on two CPU cores; random
weights change the pictures, not the time, so a full-size one times every real kernel.
"""

from __future__ import annotations

import string
from pathlib import Path

TOKEN_MAX = 77
HIDDEN = 32  # each text encoder's width; the UNet attends to both (64)
TIME_EMBED = 8


def _vocab() -> dict[str, int]:
    tokens = ["<|startoftext|>", "<|endoftext|>", "!"]
    chars = [c for c in string.ascii_lowercase + string.digits + string.punctuation if c != "!"]
    tokens += chars + [c + "</w>" for c in chars]
    return {t: i for i, t in enumerate(dict.fromkeys(tokens))}


def tiny_sdxl_save(folder: Path, *, seed: int = 0) -> Path:
    """Write a tiny SDXL pipeline (UNet, VAE, two text encoders, tokenizers, scheduler)."""
    return _sdxl_save(folder, seed=seed, full=False)


def sdxl_random_save(folder: Path, *, seed: int = 0) -> Path:
    """Write an SDXL base pipeline of the published shapes with random weights (fp16)."""
    return _sdxl_save(folder, seed=seed, full=True)


def _sdxl_save(folder: Path, *, seed: int, full: bool) -> Path:
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import (
        CLIPTextConfig,
        CLIPTextModel,
        CLIPTextModelWithProjection,
        CLIPTokenizer,
    )

    torch.manual_seed(seed)
    vocab = _vocab()
    if full:
        # SDXL base 1.0: CLIP ViT-L text encoder, OpenCLIP ViT-bigG text encoder with
        # projection, a 2.6 B parameter UNet, the 4-channel VAE.
        text_configs = [
            CLIPTextConfig(
                vocab_size=49408,
                hidden_size=768,
                intermediate_size=3072,
                num_attention_heads=12,
                num_hidden_layers=12,
                projection_dim=768,
                max_position_embeddings=TOKEN_MAX,
                hidden_act="quick_gelu",
                bos_token_id=0,
                eos_token_id=1,
                pad_token_id=1,
            ),
            CLIPTextConfig(
                vocab_size=49408,
                hidden_size=1280,
                intermediate_size=5120,
                num_attention_heads=20,
                num_hidden_layers=32,
                projection_dim=1280,
                max_position_embeddings=TOKEN_MAX,
                hidden_act="gelu",
                bos_token_id=0,
                eos_token_id=1,
                pad_token_id=1,
            ),
        ]
        unet = UNet2DConditionModel(
            sample_size=128,
            block_out_channels=(320, 640, 1280),
            layers_per_block=2,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
            transformer_layers_per_block=(1, 2, 10),
            attention_head_dim=(5, 10, 20),
            cross_attention_dim=2048,
            use_linear_projection=True,
            addition_embed_type="text_time",
            addition_time_embed_dim=256,
            projection_class_embeddings_input_dim=2816,
        )
        vae = AutoencoderKL(
            block_out_channels=(128, 256, 512, 512),
            down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4,
            latent_channels=4,
            layers_per_block=2,
            sample_size=1024,
            scaling_factor=0.13025,
        )
    else:
        text_configs = [
            CLIPTextConfig(
                bos_token_id=0,
                eos_token_id=1,
                pad_token_id=1,
                hidden_size=HIDDEN,
                intermediate_size=37,
                num_attention_heads=4,
                num_hidden_layers=2,
                vocab_size=len(vocab),
                max_position_embeddings=TOKEN_MAX,
                projection_dim=HIDDEN,
                hidden_act="gelu",
            )
        ] * 2
        unet = UNet2DConditionModel(
            block_out_channels=(32, 64),
            layers_per_block=1,
            sample_size=32,
            in_channels=4,
            out_channels=4,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            attention_head_dim=(2, 4),
            use_linear_projection=True,
            addition_embed_type="text_time",
            addition_time_embed_dim=TIME_EMBED,
            transformer_layers_per_block=(1, 1),
            projection_class_embeddings_input_dim=6 * TIME_EMBED + HIDDEN,
            cross_attention_dim=2 * HIDDEN,
            norm_num_groups=8,
        )
        vae = AutoencoderKL(
            block_out_channels=(8, 16, 16, 16),
            in_channels=3,
            out_channels=3,
            down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4,
            latent_channels=4,
            norm_num_groups=8,
            sample_size=256,
        )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        steps_offset=1,
        timestep_spacing="leading",
    )
    tokenizers = [
        CLIPTokenizer(vocab=vocab, merges=[], model_max_length=TOKEN_MAX) for _ in range(2)
    ]
    pipe = StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=CLIPTextModel(text_configs[0]),
        text_encoder_2=CLIPTextModelWithProjection(text_configs[1]),
        tokenizer=tokenizers[0],
        tokenizer_2=tokenizers[1],
        unet=unet,
        scheduler=scheduler,
    )
    if full:
        pipe = pipe.to(torch.float16)
    folder.mkdir(parents=True, exist_ok=True)
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def tiny_textual_inversion_save(path: Path, *, width: int = HIDDEN, vectors: int = 2) -> Path:
    """An SDXL textual-inversion file for the tiny model (`clip_l` and `clip_g`)."""
    import torch
    from safetensors.torch import save_file

    generator = torch.Generator().manual_seed(vectors)
    save_file(
        {
            "clip_l": torch.randn(vectors, width, generator=generator),
            "clip_g": torch.randn(vectors, width, generator=generator),
        },
        str(path),
    )
    return path


def tiny_lora_save(model: Path, folder: Path, *, rank: int = 4) -> Path:
    """A LoRA for the tiny model's UNet attention, with random (non-zero) weights."""
    import torch
    from diffusers import StableDiffusionXLPipeline, UNet2DConditionModel
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    torch.manual_seed(rank)
    unet = UNet2DConditionModel.from_pretrained(model / "unet", local_files_only=True)
    unet.add_adapter(
        LoraConfig(
            r=rank,
            lora_alpha=rank,
            target_modules=["to_q", "to_k", "to_v", "to_out.0"],
            init_lora_weights=False,
        )
    )
    StableDiffusionXLPipeline.save_lora_weights(
        folder, unet_lora_layers=get_peft_model_state_dict(unet), safe_serialization=True
    )
    return folder


def controlnet_from_unet_save(model: Path, folder: Path) -> Path:
    """A ControlNet made from a model's UNet (the tiny one, or SDXL's shapes for the GPU
    benchmark); its conditioning embedding downsamples by 8, as SDXL's VAE and the tiny
    VAE do."""
    import torch
    from diffusers import ControlNetModel, UNet2DConditionModel

    torch.manual_seed(1)
    unet = UNet2DConditionModel.from_pretrained(model / "unet", local_files_only=True)
    controlnet = ControlNetModel.from_unet(unet, conditioning_channels=3)
    # A fresh ControlNet's output convolutions are zero (it starts as a no-op, to be
    # trained); random ones let the tests see the conditioning change the picture.
    with torch.no_grad():
        for block in [*controlnet.controlnet_down_blocks, controlnet.controlnet_mid_block]:
            for weight in block.parameters():
                weight.normal_(0.0, 0.05)
    controlnet.save_pretrained(folder, safe_serialization=True)
    return folder
