"""Concept questions on what a CNN does not do by itself, and on its shapes: rotation and
scale, flattening, padding and stride, channels."""

from .model import Check, Concept

BANK: tuple[Concept, ...] = (
    # ---------------------------------------------------------------- rotation and scale
    Concept(
        "rotation_scale", "easy", "Is a CNN rotation invariant by construction?",
        "no: its kernels have orientations; a vertical-edge filter does not fire on a horizontal edge",
        (("yes, because weight sharing applies the kernel everywhere",
          "sharing applies the same kernel at every position, but in one orientation only"),
         ("yes, thanks to max pooling",
          "pooling forgives small moves inside a window; a rotation changes which kernels respond, all over the "
          "image"),
         ("yes for 90-degree turns, because the kernels are square",
          "the grid is square but the weights are not symmetric: Sobel-x turned by 90 degrees is Sobel-y")),
        "CNNs are translation equivariant, not rotation or scale invariant; rotation robustness needs data "
        "augmentation or special (rotation-equivariant) layers."),
    Concept(
        "rotation_scale", "medium", "How do practitioners make a CNN robust to rotated inputs?",
        "train with rotated copies (data augmentation), or use rotation-equivariant layers",
        (("add zero padding so that rotated content fits",
          "padding changes the border, not the orientation a kernel responds to"),
         ("use larger kernels that see the whole rotated object",
          "a larger kernel still has one orientation; it responds differently when the object turns"),
         ("add more max-pooling layers",
          "pooling summarises over positions, not over orientations")),
        "Augmentation teaches the filters every orientation seen in training; equivariant layers build rotated "
        "copies of each kernel into the architecture."),
    Concept(
        "rotation_scale", "medium", "Sobel-x, [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], is rotated by 90 degrees. "
        "What does it detect now?", "horizontal edges, instead of vertical ones",
        (("vertical edges still: the kernel is symmetric",
          "it is symmetric top to bottom, not under a quarter turn: rotating it gives [[1, 2, 1], [0, 0, 0], "
          "[-1, -2, -1]]"),
         ("diagonal edges",
          "a 90-degree turn maps left-right onto top-bottom; diagonals would take a 45-degree turn"),
         ("vertical edges with the opposite sign",
          "that is a 180-degree turn, which negates Sobel-x; a 90-degree turn swaps the axes")),
        "torch.rot90 of Sobel-x is [[1, 2, 1], [0, 0, 0], [-1, -2, -1]], a vertical gradient: horizontal edges. "
        "Rotating the image moves its edges to other filters in the same way, which is why rotation changes a "
        "CNN's features."),
    Concept(
        "rotation_scale", "hard", "A CNN trained on upright digits sees them rotated by 90 degrees. What should you "
        "expect?", "accuracy drops: convolution is equivariant to shifts, not to rotations",
        (("no change: convolutions are rotation invariant",
          "kernels have orientations: a rotated stroke excites other filters than the upright one did"),
         ("no change, thanks to max pooling",
          "pooling forgives small shifts inside a window, not a quarter turn of the whole digit"),
         ("no change, because weight sharing applies each kernel at every orientation",
          "sharing applies each kernel at every position, always in the same orientation")),
        "Kernels detect oriented patterns; rotating the input moves features to other kernels. Rotation robustness "
        "comes from data augmentation or special architectures."),
    Concept(
        "rotation_scale", "hard", "Doubling an object's size in the image: what happens to a CNN's filters' "
        "responses?", "they change: convolution is not scale invariant; the same edges appear at another spacing",
        (("nothing: CNNs are scale invariant",
          "a 3x3 kernel is tuned to patterns of its own size; a twice-as-large stroke is a different pattern to "
          "it"),
         ("nothing, because max pooling makes the network scale invariant",
          "pooling tolerates moves inside a window; it does not resize what the kernels see"),
         ("nothing, because weight sharing finds a pattern at any size",
          "sharing finds a pattern at any position, at its trained size only")),
        "Scale robustness comes from pooling hierarchies, multi-scale training or image pyramids, not from the "
        "convolution itself."),
    # ---------------------------------------------------------------- flattening
    Concept(
        "flattening", "easy", "A 32x32 grey image is flattened into nn.Linear(1024, 512). How many weights, "
        "without biases?", "524,288 = 1024 * 512",
        (("1,536 = 1024 + 512",
          "every input connects to every output, so the counts multiply: 1024 * 512"),
         ("512: one per output",
          "each output has its own weight for each of the 1,024 inputs"),
         ("1,024: one per pixel",
          "that is one output's weights; there are 512 outputs")),
        "A dense layer has in * out weights: 1024 * 512 = 524,288, for a tiny image, and it still ignores where the "
        "pixels are.",
        (Check("nn.Linear(1024, 512, bias=False).weight.numel()", "524,288"),)),
    Concept(
        "flattening", "easy", "What does nn.Flatten() do to a tensor of shape (8, 16, 5, 5)?",
        "makes it (8, 400): the batch axis stays, the rest is joined",
        (("makes it (3200,): one vector for everything",
          "torch.flatten(x) does that (start_dim=0); the layer nn.Flatten() starts at dim 1 and keeps the batch"),
         ("makes it (8, 16, 25): only the spatial axes are joined",
          "nn.Flatten() joins every axis after the batch, channels included: 16*5*5 = 400"),
         ("makes it (128, 25): batch and channels are merged",
          "the batch axis is never merged by nn.Flatten(); 8 images stay 8 rows")),
        "nn.Flatten(start_dim=1) turns (N, C, H, W) into (N, C*H*W): 16*5*5 = 400 per image.",
        (Check("nn.Flatten()(torch.zeros(8, 16, 5, 5)).shape[1]", "400"),)),
    Concept(
        "flattening", "medium", "What does nn.Flatten() throw away before a Linear layer?",
        "the arrangement of the values in space: the Linear treats each position as an unrelated input",
        (("the channel values",
          "every value of every channel is kept: (N, C, H, W) becomes (N, C*H*W)"),
         ("the batch axis",
          "nn.Flatten() starts at dim 1, so the batch axis stays: 8 images give 8 rows"),
         ("nothing: the values keep their order, so the Linear still knows which pixels are neighbours",
          "the order is kept, but the Linear gives each index its own weight and has no notion that indices 88 "
          "and 89 were neighbours")),
        "Flatten keeps every number but the Linear gets no notion of which pixels are neighbours; shuffling the "
        "pixels the same way for every image would not change what an MLP can learn."),
    Concept(
        "flattening", "medium", "nn.Sequential(nn.Conv2d(1, 32, 3), nn.Flatten(), nn.Linear(?, 10)) takes 1x28x28 "
        "images. What in_features must the Linear have?", "21,632 = 32 * 26 * 26",
        (("25,088 = 32 * 28 * 28",
          "the conv has no padding, so it shrinks 28 to 28 - 3 + 1 = 26"),
         ("676 = 26 * 26",
          "Flatten joins the channels too: 32 maps of 26x26"),
         ("784 = 28 * 28",
          "Flatten sees the conv's output (32, 26, 26), not the input image")),
        "(1, 28, 28) -> Conv2d(1, 32, 3) -> (32, 26, 26) -> Flatten -> 21,632 values per image.",
        (Check("nn.Sequential(nn.Conv2d(1, 32, 3), nn.Flatten())(torch.zeros(1, 1, 28, 28)).shape[1]", "21,632"),)),
    Concept(
        "flattening", "hard", "Shuffle the pixels of every image with one fixed permutation. Which model can still "
        "learn as well as before, in principle?",
        "a Flatten + Linear MLP: it never used neighbourhoods, so a fixed permutation only renames its inputs",
        (("a CNN, because it is translation equivariant",
          "a shuffle is not a translation: it breaks neighbourhoods, so the 3x3 windows now read unrelated pixels"),
         ("neither: shuffling destroys the information",
          "a fixed permutation can be undone; every value is still there, only the layout is lost"),
         ("both equally, because both see every pixel",
          "seeing every pixel is not enough: a CNN's kernels rely on neighbours staying neighbours")),
        "An MLP's first layer permutes its weights to match; a CNN loses the locality its kernels exploit. This is "
        "exactly what flattening throws away."),
    Concept(
        "flattening", "hard", "An MLP (Flatten + Linear layers) learned to spot a loop at the centre of the image. "
        "In a test image the loop is 5 pixels further left. Why can the MLP fail where a CNN succeeds?",
        "the MLP's weights for the shifted pixels are different weights that never learned the loop; a CNN's "
        "shared kernel fires wherever the loop is",
        (("the MLP flattened the image, so the shifted loop's values are lost",
          "flattening keeps every value; what differs is that other, untrained weights now read them"),
         ("the MLP is sensitive to rotations and the CNN is not",
          "the test image is shifted, not rotated, and neither model is rotation invariant"),
         ("the MLP has too few weights to represent the loop",
          "the MLP has far more weights (784 per unit of its first layer on 28x28 inputs); it lacks sharing, not "
          "capacity")),
        "A dense net must learn each pattern at every location separately; the CNN learns it once, and its "
        "equivariant maps plus pooling carry it to any position."),
    # ---------------------------------------------------------------- padding and stride
    Concept(
        "padding_stride", "easy", "Why does a CNN add zero padding around its input?",
        "so the output can keep the input's size and border pixels are seen as often as others",
        (("to add more trainable parameters",
          "the padded zeros are constants, not parameters: Conv2d(1, 1, 3, padding=1) has 10 parameters, like "
          "padding=0"),
         ("to tell the network what lies outside the image",
          "the zeros carry no information about the outside; they only let the window hang over the edge"),
         ("to save computation",
          "padding adds positions, so it costs more: 28x28 outputs instead of 26x26")),
        "A 3x3 window without padding shrinks each axis by 2 (28 to 26); padding 1 keeps the size "
        "(out = in + 2 - 3 + 1).",
        (Check("nn.Conv2d(1, 1, 3, padding=1)(torch.zeros(1, 1, 28, 28)).shape[-1]", "28"),)),
    Concept(
        "padding_stride", "easy", "What size does nn.Conv2d(1, 1, 3) (no padding, stride 1) give for a 28x28 "
        "image?", "26x26 (28 - 3 + 1)",
        (("28x28: a convolution keeps the size",
          "it keeps the size only with padding=1 (for a 3x3 kernel); PyTorch's default is padding=0"),
         ("25x25 (28 - 3)",
          "that forgets the + 1: the first window starts at 0 and the last at 25, 26 windows in all"),
         ("9x9 (28 / 3)",
          "at stride 1 the window moves one pixel at a time; it does not jump by its own size")),
        "out = (in + 2p - k) / s + 1 = (28 - 3) / 1 + 1 = 26: 'valid' padding loses k - 1 = 2 pixels along "
        "each axis.",
        (Check("nn.Conv2d(1, 1, 3)(torch.zeros(1, 1, 28, 28)).shape[-1]", "26"),)),
    Concept(
        "padding_stride", "medium", "What size does nn.Conv2d(1, 1, 3, stride=2, padding=1) give for a 28x28 "
        "image?", "14x14",
        (("13x13",
          "13 = floor(27 / 2) forgets the + 1 for the first window: floor((28 + 2 - 3) / 2) + 1 = 14"),
         ("15x15",
          "15 rounds 27 / 2 up; PyTorch rounds down: floor(13.5) + 1 = 14"),
         ("28x28: padding 1 keeps the size",
          "padding 1 keeps the size only at stride 1; stride 2 presses the kernel at every second position")),
        "floor((28 + 2*1 - 3) / 2) + 1 = 13 + 1 = 14: the usual stride-2 downsample.",
        (Check("nn.Conv2d(1, 1, 3, stride=2, padding=1)(torch.zeros(1, 1, 28, 28)).shape[-1]", "14"),)),
    Concept(
        "padding_stride", "medium", "What padding keeps a 28x28 map's size for a 5x5 kernel at stride 1?",
        "2 = (5 - 1) / 2 on each side",
        (("1, as for every kernel",
          "padding 1 suits a 3x3 kernel; with 5x5 it gives 28 + 2 - 5 + 1 = 26"),
         ("5, the kernel size",
          "too much: 28 + 10 - 5 + 1 = 34"),
         ("4 = 5 - 1",
          "k - 1 = 4 is the total over both sides; padding is per side, so 4 gives 28 + 8 - 5 + 1 = 32")),
        "out = in + 2p - k + 1 equals in when p = (k - 1) / 2: 28 + 4 - 5 + 1 = 28.",
        (Check("nn.Conv2d(1, 1, 5, padding=2)(torch.zeros(1, 1, 28, 28)).shape[-1]", "28"),)),
    Concept(
        "padding_stride", "hard", "What size does nn.Conv2d(1, 1, 3, stride=2) (no padding) give for a 28x28 "
        "image?", "13x13: floor(25 / 2) + 1",
        (("14x14: (28 - 3) / 2 + 1 = 13.5, rounded up",
          "PyTorch rounds the division down: floor(12.5) + 1 = 13; a window that would cross the edge is dropped"),
         ("12x12: floor(25 / 2)",
          "that forgets the + 1 for the first window at position 0"),
         ("26x26: 28 - 3 + 1, the stride only makes it faster",
          "26 is the count at stride 1; stride 2 presses the kernel at every second position, about halving it")),
        "floor((28 - 3) / 2) + 1 = 12 + 1 = 13: windows start at 0, 2, ..., 24, and column 27 is never read. "
        "The floor is not a formality.",
        (Check("nn.Conv2d(1, 1, 3, stride=2)(torch.zeros(1, 1, 28, 28)).shape[-1]", "13"),)),
    Concept(
        "padding_stride", "hard", "How many 3x3 convolutions without padding can a 32x32 map go through before torch "
        "refuses?", "15: each layer takes 2 pixels off, 32 - 2*15 = 2, and a 16th 3x3 kernel does not fit in 2x2",
        (("14, which leaves a single pixel",
          "14 layers take 28 pixels off, leaving 4x4; 15 leave 2x2"),
         ("31, one pixel per layer",
          "a valid 3x3 layer loses a pixel at both borders, 2 per layer"),
         ("16: the map reaches 0x0 and torch returns an empty tensor",
          "torch does not return an empty map: a kernel larger than its (padded) input raises a RuntimeError")),
        "Without padding every 3x3 layer shrinks each side by k - 1 = 2; this is why deep stacks pad (padding 1 "
        "keeps the size) or downsample on purpose.",
        (Check("nn.Sequential(*[nn.Conv2d(1, 1, 3) for _ in range(15)])(torch.zeros(1, 1, 32, 32)).shape[-1]",
               "2"),)),
    # ---------------------------------------------------------------- channels
    Concept(
        "channels", "easy", "What is the shape of nn.Conv2d(3, 8, 3).weight?",
        "(8, 3, 3, 3): (out_channels, in_channels, kH, kW)",
        (("(3, 3, 3, 8)",
          "that is TensorFlow's (kH, kW, in, out) order; PyTorch puts out_channels first"),
         ("(8, 3, 3)",
          "that leaves out the input channels: each of the 8 kernels spans all 3 input channels"),
         ("(3, 8, 3, 3)",
          "in_channels first is nn.ConvTranspose2d's layout; nn.Conv2d stores out_channels first")),
        "Eight kernels, each 3x3 across the 3 input channels: weight (8, 3, 3, 3) and bias (8,).",
        (Check("tuple(nn.Conv2d(3, 8, 3).weight.shape)", "(8, 3, 3, 3)"),)),
    Concept(
        "channels", "easy", "A batch of RGB images for nn.Conv2d(3, ...) has which shape?", "(N, 3, H, W)",
        (("(N, H, W, 3)",
          "that is how PIL and NumPy images come (channels last); PyTorch wants channels first: x.permute(0, 3, 1, "
          "2)"),
         ("(N, 3*H*W)",
          "that is a flattened batch for nn.Linear; a conv needs the two spatial axes"),
         ("(3, N, H, W)",
          "torch reads axis 0 of a 4-d input as the batch, so this is 3 images of N channels each")),
        "Read a conv's input as [batch, channels, height, width]; in_channels must equal the C axis."),
    Concept(
        "channels", "medium", "How many parameters does nn.Conv2d(16, 32, 3) have?", "4,640 = 32 * 16 * 3 * 3 + 32",
        (("320 = 32 * 3 * 3 + 32",
          "that forgets the input channels: each of the 32 kernels is 16x3x3"),
         ("4,608 = 32 * 16 * 3 * 3",
          "that forgets the 32 biases, one per output channel (bias=True is the default)"),
         ("10: one 3x3 kernel and one bias shared by all channels",
          "weights are shared across positions, not channels: each (output, input) channel pair has its own 3x3")),
        "weight (32, 16, 3, 3) = 4,608, bias (32,) = 32: 4,640, whatever the image size.",
        (Check("sum(p.numel() for p in nn.Conv2d(16, 32, 3).parameters())", "4,640"),)),
    Concept(
        "channels", "medium", "How does nn.Conv2d(3, 1, 3) combine the red, green and blue channels into its one "
        "output map?", "it sums the three 3x3 products (one kernel slice per colour) into one number per position, "
        "plus the bias",
        (("it gives three separate maps, one per colour",
          "one output channel is one map; separate maps per channel is groups=3 (depthwise) with 3 outputs"),
         ("it averages the channels to grey first, then applies one 3x3 kernel",
          "each colour has its own 3x3 slice of the (1, 3, 3, 3) weight, learned separately"),
         ("it takes the largest of the three channels at each pixel",
          "a maximum is what pooling does; a conv multiplies and sums")),
        "The kernel is 3x3x3 = 27 weights; at each position it multiplies the 3x3 patch of every channel by its "
        "slice and sums all 27 products into one value.",
        (Check("nn.Conv2d(3, 1, 3).weight.numel()", "27"),)),
    Concept(
        "channels", "hard", "What can a 1x1 convolution do?",
        "mix the channels at each position (a per-pixel linear layer)",
        (("nothing: it is the identity",
          "a 1x1 kernel looks trivial, but nn.Conv2d(64, 32, 1) holds a 64x32 matrix (2,080 parameters with "
          "bias) applied at every pixel"),
         ("detect edges",
          "an edge is a difference between neighbours, and a 1x1 kernel reads a single position"),
         ("halve the spatial size, like pooling",
          "at stride 1 a 1x1 conv keeps H and W; bottlenecks use it to cut the channels, not the size")),
        "A 1x1 kernel multiplies the C input values of one position by a CxC_out matrix: channel mixing. "
        "nn.Conv2d(64, 32, 1) has 64*32 + 32 = 2,080 parameters and keeps H and W.",
        (Check("sum(p.numel() for p in nn.Conv2d(64, 32, 1).parameters())", "2,080"),)),
    Concept(
        "channels", "hard", "How many parameters does the depthwise nn.Conv2d(32, 32, 3, groups=32) have?",
        "320 = 32 * 1 * 3 * 3 + 32: each output channel reads one input channel",
        (("9,248 = 32 * 32 * 3 * 3 + 32",
          "that is the count without groups; groups=32 splits the input channels so each kernel sees only 1"),
         ("10 = 9 + 1: one kernel for all 32 channels",
          "depthwise still gives every channel its own 3x3 kernel and bias"),
         ("288 = 32 * 3 * 3",
          "that forgets the 32 biases; bias=True is the default")),
        "weight (32, 1, 3, 3) = 288, bias (32,) = 32: 320. A 1x1 conv after it mixes the channels (depthwise-"
        "separable).",
        (Check("sum(p.numel() for p in nn.Conv2d(32, 32, 3, groups=32).parameters())", "320"),)),
)
