"""The convolution engine: numbers only (no images, plots, web or CLI).

Nothing in here imports from the rest of convscope; everything else calls in.
"""

from .arithmetic import (
                         ReceptiveField,
                         effective_kernel,
                         explain_output_size,
                         onnx_same_padding,
                         output_size,
                         same_padding,
                         transposed_output_size,
)
from .conv import conv1d, conv1d_backward, conv2d, conv2d_backward, conv3d, conv3d_backward
from .dispatch import BACKENDS
from .errors import (
                         ArrayTooLargeError,
                         BackendError,
                         ChannelMismatchError,
                         ChannelsLastError,
                         ConvParameterError,
                         ConvScopeError,
                         ConvShapeError,
                         KernelLayoutError,
                         KernelTooLargeError,
                         MissingAxisError,
                         TensorTypeError,
)
from .pooling import (
                         avg_pool1d,
                         avg_pool1d_backward,
                         avg_pool2d,
                         avg_pool2d_backward,
                         avg_pool3d,
                         avg_pool3d_backward,
                         lp_pool1d,
                         lp_pool1d_backward,
                         lp_pool2d,
                         lp_pool2d_backward,
                         lp_pool3d,
                         lp_pool3d_backward,
                         max_pool1d,
                         max_pool1d_backward,
                         max_pool2d,
                         max_pool2d_backward,
                         max_pool3d,
                         max_pool3d_backward,
)
from .transpose import (
                         conv_transpose1d,
                         conv_transpose1d_backward,
                         conv_transpose2d,
                         conv_transpose2d_backward,
                         conv_transpose3d,
                         conv_transpose3d_backward,
)

__all__ = [
    "ArrayTooLargeError", "BACKENDS", "BackendError", "ReceptiveField", "ChannelMismatchError", "ChannelsLastError",
    "ConvParameterError", "ConvScopeError", "ConvShapeError", "KernelLayoutError", "KernelTooLargeError",
    "MissingAxisError", "TensorTypeError",
    "avg_pool1d", "avg_pool1d_backward", "avg_pool2d", "avg_pool2d_backward", "avg_pool3d",
    "avg_pool3d_backward", "conv1d", "conv1d_backward", "conv2d", "conv2d_backward", "conv3d",
    "conv3d_backward", "conv_transpose1d", "conv_transpose1d_backward", "conv_transpose2d",
    "conv_transpose2d_backward", "conv_transpose3d", "conv_transpose3d_backward", "effective_kernel",
    "explain_output_size", "lp_pool1d", "lp_pool1d_backward", "lp_pool2d", "lp_pool2d_backward", "lp_pool3d",
    "lp_pool3d_backward", "max_pool1d", "max_pool1d_backward", "max_pool2d", "max_pool2d_backward",
    "max_pool3d", "max_pool3d_backward", "onnx_same_padding", "output_size", "same_padding", "transposed_output_size",
]
