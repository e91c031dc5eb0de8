"""Models built from glassnet.nn: GPT, an encoder-decoder Transformer, BERT-style encoders (our own, and Hugging
Face's layout for pretrained weights), a sentence encoder, a ViT, ResNets, a U-Net, CenterNet- and DETR-style
detectors, graph networks (GCN, GAT), a CTC speech recogniser, and generative models: a convolutional
autoencoder, a VAE, a DCGAN and a DDPM.

    from glassnet.models import GPT, Seq2SeqTransformer, BertForMaskedLM, ViT, resnet18, resnet20
"""
from .bert import *  # noqa: F401,F403
from .bert_hf import *  # noqa: F401,F403
from .sentence_encoder import SentenceEncoder  # noqa: F401
from .gpt import *  # noqa: F401,F403
from .seq2seq_transformer import *  # noqa: F401,F403
from .vit import *  # noqa: F401,F403
from .resnet import *  # noqa: F401,F403
from .unet import *  # noqa: F401,F403
from .detection import *  # noqa: F401,F403
from .detr import *  # noqa: F401,F403
from .graph import *  # noqa: F401,F403
from .speech import *  # noqa: F401,F403
from .autoencoder import *  # noqa: F401,F403
from .vae import *  # noqa: F401,F403
from .gan import *  # noqa: F401,F403
from .diffusion import *  # noqa: F401,F403
from .char_rnn import CharRNN  # noqa: F401  (worker L)
from .seq2seq_rnn import AdditiveAttention, Seq2SeqRNN  # noqa: F401  (worker L)
from . import autoencoder, diffusion, gan, vae
from . import bert, bert_hf, detection, detr, gpt, graph, resnet, seq2seq_transformer, speech, unet, vit

__all__ = (gpt.__all__ + seq2seq_transformer.__all__ + bert.__all__ + bert_hf.__all__ + ["SentenceEncoder"] + vit.__all__
           + resnet.__all__ + unet.__all__ + detection.__all__
           + detr.__all__ + graph.__all__ + speech.__all__
           + autoencoder.__all__ + vae.__all__ + gan.__all__ + diffusion.__all__)
