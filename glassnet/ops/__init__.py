"""Every differentiable operation, grouped by family; each file holds forwards and backwards side by side.

arithmetic   add sub mul div (true, floor, trunc) remainder fmod pow neg matmul mm bmm mv dot outer addmm
             addcmul addcdiv
elementwise  exp log sqrt abs, trigonometric and hyperbolic functions, floor ceil round trunc frac sign
             copysign atan2 hypot logaddexp lerp nan_to_num clamp where maximum minimum fmax fmin
comparison   eq ne lt le gt ge, logical and bitwise ops, isnan isinf isfinite isclose allclose (no gradient)
reduction    sum mean prod max min amax amin aminmax var std var_mean std_mean logsumexp norm argmax argmin
             any all count_nonzero nansum nanmean
cumulative   cumsum cumprod cummax cummin logcumsumexp
shape        cast reshape view flatten unflatten squeeze unsqueeze transpose permute movedim expand broadcast_to
             sum_to clone roll atleast_nd
indexing     getitem cat stack split chunk flip repeat pad masked_fill gather scatter_add index_select
             one_hot tril triu nonzero masked_select
scatter      scatter scatter_reduce index_add index_copy index_fill
slicing      unbind select narrow tensor_split repeat_interleave take take_along_dim unfold diff meshgrid
sorting      sort argsort topk kthvalue median nanmedian quantile nanquantile unique searchsorted bucketize
             bincount histc
matrix       diagonal diag diag_embed trace einsum
linear_algebra  torch.linalg (glassnet.linalg): inv solve det slogdet cholesky qr eigh svd pinv norms ...
fourier      torch.fft (glassnet.fft): fft ifft rfft irfft (2-D, n-D), stft; complex parts real imag angle conj
activation   relu relu6 leaky_relu rrelu prelu threshold hardtanh softshrink hardshrink elu selu celu gelu silu
             mish sigmoid logsigmoid hardsigmoid hardswish tanh tanhshrink softsign softplus glu softmax log_softmax
             softmin gumbel_softmax (and the in-place relu_, elu_, ...)

The fused layers below are reached through glassnet.nn.functional (as in torch.nn.functional):
linear         linear (one node: three matrix products in the backward)
conv           conv1d/2d/3d, conv_transpose1d/2d/3d (input gradient = a transposed convolution)
pooling        max/avg/adaptive pools, interpolate
normalization  batch_norm layer_norm group_norm instance_norm rms_norm
loss           cross_entropy nll_loss mse_loss l1_loss ... (cross_entropy: softmax - target in one node)
dropout        dropout dropout1d dropout2d dropout3d alpha_dropout feature_alpha_dropout
rearrange      pixel_shuffle pixel_unshuffle channel_shuffle
fold           unfold (im2col) and fold (col2im), each the other's backward
unpool         max_unpool1d/2d/3d
lp_pool        lp_pool1d/2d/3d local_response_norm
bilinear       bilinear;   embedding_bag  embedding_bag;   grid_sample  affine_grid grid_sample
embedding      embedding
recurrent      rnn/lstm/gru layers and cells, backpropagation through time written out
attention      scaled_dot_product_attention, rotary embeddings
efficient_attention  linformer_attention, performer_attention (linear in the sequence length)
distance       normalize cosine_similarity pairwise_distance; contrastive, triplet, InfoNCE and NT-Xent losses
ctc            ctc_loss (alpha/beta recursions in log space), greedy and beam-search decoding, forced_align

Graph networks (glassnet.nn.GCNConv, GATConv) build on:
sparse         sparse_coo_tensor, sparse.mm (sparse x dense, backward = the transposed product), segment_softmax
"""
from .activation import *  # noqa: F401,F403
from .arithmetic import *  # noqa: F401,F403
from .comparison import *  # noqa: F401,F403
from .cumulative import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .fourier import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .linear_algebra import *  # noqa: F401,F403
from .matrix import *  # noqa: F401,F403
from .reduction import *  # noqa: F401,F403
from .scatter import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .slicing import *  # noqa: F401,F403
from .sorting import *  # noqa: F401,F403
