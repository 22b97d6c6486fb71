"""Concept questions on what stacking layers does: pooling, hierarchy, receptive fields
and their long-range limit."""

from .model import Check, Concept

BANK: tuple[Concept, ...] = (
    # ---------------------------------------------------------------- pooling
    Concept(
        "pooling", "easy", "What does a max-pooling layer with kernel 2 and stride 2 do to a 32x32 feature map?",
        "keeps the largest value of each 2x2 block, giving 16x16",
        (("averages every pixel with its neighbours, keeping 32x32",
          "that is a blur (a conv with an averaging kernel and padding 1); pooling at stride 2 halves each side"),
         ("keeps the largest value of each 2x2 block, giving 31x31",
          "31 = 32 - 2 + 1 is the count at stride 1; at stride 2 the windows do not overlap: (32 - 2) / 2 + 1 = 16"),
         ("halves the channels, keeping 32x32",
          "pooling works on each channel by itself: the channel count stays and the spatial size halves")),
        "Pooling has no weights; it summarises each window (here the max) and the stride halves each side.",
        (Check("nn.MaxPool2d(2, 2)(torch.zeros(1, 1, 32, 32)).shape[-1]", "16"),)),
    Concept(
        "pooling", "easy", "How many learnable parameters does nn.MaxPool2d(2) have?",
        "0: it takes the maximum of each window, so there is nothing to learn",
        (("4, one per cell of its 2x2 window",
          "a weight per cell is a 2x2 conv kernel; a max pool compares the cells and keeps the largest"),
         ("2: its kernel size and its stride",
          "kernel size and stride are settings fixed when the layer is built, not parameters that training "
          "updates"),
         ("one per channel, like a conv's bias",
          "the same max is taken in every channel, with no per-channel number to learn")),
        "list(nn.MaxPool2d(2).parameters()) is empty: pooling only summarises each window (max or mean).",
        (Check("sum(p.numel() for p in nn.MaxPool2d(2).parameters())", "0"),)),
    Concept(
        "pooling", "medium", "What size does nn.MaxPool2d(3, stride=2) give for a 7x7 map?", "3x3",
        (("2x2",
          "2 = 7 // 3 divides by the kernel size; the windows move by the stride: floor((7 - 3) / 2) + 1 = 3"),
         ("4x4",
          "4 halves 7 and rounds up; that forgets the window's size: the last window must fit"),
         ("5x5",
          "5 = 7 - 3 + 1 is the count at stride 1; stride 2 skips every second window")),
        "floor((7 - 3) / 2) + 1 = 3: windows start at 0, 2 and 4, the last one covering rows 4 to 6.",
        (Check("nn.MaxPool2d(3, stride=2)(torch.zeros(1, 1, 7, 7)).shape[-1]", "3"),)),
    Concept(
        "pooling", "medium", "What stride does nn.MaxPool2d(2) use when none is given?",
        "2: stride defaults to kernel_size, so the windows do not overlap and a 32x32 map becomes 16x16",
        (("1, as in nn.Conv2d",
          "Conv2d's stride defaults to 1, but pooling's default is stride=None, which means the kernel size"),
         ("none: torch raises until you pass a stride",
          "stride is optional: MaxPool2d(2) runs and uses stride 2"),
         ("2 for even inputs and 1 for odd ones",
          "the stride is fixed when the layer is built; an odd input just loses its last row and column")),
        "nn.MaxPool2d(2).stride == 2, and floor((32 - 2) / 2) + 1 = 16.",
        (Check("nn.MaxPool2d(2)(torch.zeros(1, 1, 32, 32)).shape[-1]", "16"),)),
    Concept(
        "pooling", "hard", "nn.MaxPool2d(2) meets a 7x7 map. What happens to its last row and column?",
        "they are dropped: floor((7 - 2) / 2) + 1 = 3, so the output is 3x3 and row 6 is never read",
        (("they are padded with zeros, giving 4x4",
          "the default is padding=0 and ceil_mode=False; only ceil_mode=True would give 4x4, with a last window "
          "that hangs over the edge"),
         ("the last window wraps around to row 0",
          "pooling never wraps around: windows start at 0, 2, 4 and the next (6) does not fit"),
         ("torch raises, because 7 is odd",
          "any size at least the kernel's runs; the windows that do not fit are simply left out")),
        "Windows start at rows 0, 2 and 4; a window at 6 would need row 7. Output 3x3 (with ceil_mode=True: 4x4).",
        (Check("nn.MaxPool2d(2)(torch.zeros(1, 1, 7, 7)).shape[-1]", "3"),
         Check("nn.MaxPool2d(2, ceil_mode=True)(torch.zeros(1, 1, 7, 7)).shape[-1]", "4"))),
    Concept(
        "pooling", "hard", "In backprop through nn.MaxPool2d(2), which of a window's four inputs get a gradient?",
        "only the one that held the maximum; the other three get 0",
        (("all four equally, a quarter each",
          "that is average pooling's gradient: each input contributed a quarter of the mean"),
         ("all four, the full gradient each",
          "the output equals only the largest input, so changing the others (a little) changes nothing"),
         ("none: pooling has no weights, so no gradient flows through it",
          "having no weights means nothing to update in the layer; the gradient still flows back to its inputs")),
        "The max passes the gradient to the winner of each window (1 input of 4), and the earlier layers learn "
        "only through those winners.",
        (Check("reads(nn.MaxPool2d(2))", "1"),)),
    # ---------------------------------------------------------------- hierarchy
    Concept(
        "hierarchy", "easy", "How do stacked convolution layers detect complex patterns?",
        "each layer combines the simpler features of the layer before: edges into corners, corners into parts",
        (("each layer detects the same edges again, more precisely",
          "later layers read feature maps, not pixels, and their kernels combine channels into new, larger "
          "patterns"),
         ("each layer looks at a different region of the image",
          "every layer covers the whole image; what grows with depth is the region each single unit sees"),
         ("only the last layer detects anything; the others just shrink the image",
          "trained first layers hold edge and colour detectors that the later layers build on")),
        "Shallow layers find edges and colour changes, middle layers corners and simple shapes, deep layers "
        "object parts; each step composes the previous one's outputs."),
    Concept(
        "hierarchy", "easy", "What do the first-layer filters of a trained image CNN usually look like?",
        "edge and colour-blob detectors, much like Sobel or Gabor filters",
        (("whole objects, such as small faces or wheels",
          "a first-layer kernel sees only a few pixels (3x3 to 7x7); object parts appear in deeper layers"),
         ("random noise: the first layer only passes the pixels on",
          "they start random, but training turns them into oriented edge and colour detectors"),
         ("small copies of the training images",
          "a kernel has only k*k*channels weights, shared by every image and position; it stores a local "
          "pattern, not an image")),
        "Networks rediscover the hand-made edge filters (Sobel, Gabor-like) because those are the useful "
        "building blocks for everything deeper."),
    Concept(
        "hierarchy", "medium", "In a typical CNN such as VGG, how do the feature maps change with depth?",
        "they get smaller (pooling or stride) while the channels grow (64, 128, 256, ...)",
        (("both the spatial size and the channels grow",
          "pooling and stride 2 halve each side; only the channel count grows"),
         ("the spatial size stays and the channels shrink",
          "'same' padding keeps the size within a block, but each pooling halves it, and the channels grow"),
         ("both shrink, ending in a single number",
          "the channels grow to hundreds; it is the classifier head that ends in one score per class")),
        "Fewer positions, more kinds of feature: a 224x224x64 map becomes 7x7x512 in VGG-16, each position then "
        "describing a large region with many features."),
    Concept(
        "hierarchy", "medium", "A grey image is 1 channel; the first conv layer outputs 16 maps. What do the 16 "
        "input channels of the second layer hold?", "the 16 feature maps of the first layer, one per learned "
        "filter",
        (("16 copies of the grey image",
          "each first-layer filter writes its own map, a different response to the same image"),
         ("the image cut into 16 tiles",
          "every map covers the whole image; channels are kinds of feature, not regions"),
         ("16 colour channels made from the grey values",
          "the channels come from learned filters (edges, blobs), not from colours")),
        "The second layer's kernels are (out, 16, k, k): each combines all 16 first-layer features over a "
        "window, which is how features compose into larger ones.",
        (Check("nn.Sequential(nn.Conv2d(1, 16, 3), nn.Conv2d(16, 8, 3))[1].weight.shape[1]", "16"),)),
    Concept(
        "hierarchy", "hard", "Why must a conv stack have nonlinearities (e.g. ReLU) between its layers to build a "
        "hierarchy?", "with nothing between them, two convolutions compose into one convolution (a 3x3 after a "
        "3x3 is one 5x5), so depth adds no new kind of feature",
        (("because ReLU makes the layers translation invariant",
          "ReLU acts on each value by itself: it keeps equivariance and adds no invariance"),
         ("because without ReLU the receptive field does not grow",
          "it does grow: two linear 3x3 layers still see 5x5; the problem is that they equal one 5x5 kernel"),
         ("because ReLU reduces the number of weights",
          "ReLU has no weights at all; the parameter count is the conv layers'")),
        "Stacked linear maps are one linear map: two 3x3 kernels in a row equal one 5x5 kernel (the "
        "first convolved with the second). The nonlinearity between "
        "them lets a layer detect combinations (corner = edge AND edge) that no single kernel can.",
        (Check("field(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3))", "5"),)),
    Concept(
        "hierarchy", "hard", "Three stacked 3x3 convolutions or one 7x7, 64 channels in and out, no bias: which "
        "is true?", "the same 7x7 receptive field, 110,592 weights instead of 200,704, and two more nonlinearities",
        (("the 7x7 sees more: 49 pixels against 27",
          "27 = 3*9 counts the stack's kernel weights, not what it sees: three 3x3 layers see 7x7 = 49 pixels"),
         ("the stack sees only 3x3, since each of its layers is 3x3",
          "each layer adds 2: one layer sees 3x3, two see 5x5, three see 7x7"),
         ("the 7x7 layer has fewer weights, being one layer instead of three",
          "one 7x7 kernel has 49 weights per channel pair, three 3x3 have 27: 64*64*49 = 200,704 against "
          "3*64*64*9 = 110,592")),
        "Three 3x3 layers see 3 + 2 + 2 = 7 pixels per side with 27/49 of the weights (110,592 against "
        "200,704) and put a ReLU after each layer: the VGG design.",
        (Check("sum(p.numel() for p in nn.Sequential(*[nn.Conv2d(64, 64, 3, bias=False) for _ in range(3)])"
               ".parameters())", "110,592"),
         Check("nn.Conv2d(64, 64, 7, bias=False).weight.numel()", "200,704"),
         Check("field(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3))", "7"))),
    # ---------------------------------------------------------------- receptive field
    Concept(
        "receptive_field", "easy", "What is a unit's receptive field?",
        "the region of the input image that can affect that unit's value",
        (("the size of its layer's kernel",
          "that holds only in the first layer; deeper units see more, two 3x3 layers already see 5x5"),
         ("the size of the feature map it belongs to",
          "the map's size says how many units there are, not how much of the image each one sees"),
         ("the number of channels it reads",
          "channels are the depth of the input; the receptive field is its spatial extent")),
        "Follow a unit back through the layers: every input pixel that reaches it is in its receptive field. "
        "One 3x3 conv: 3x3; two: 5x5; three: 7x7.",
        (Check("field(nn.Conv2d(1, 1, 3))", "3"),)),
    Concept(
        "receptive_field", "easy", "Two stacked 3x3 convolutions, stride 1. How large is the receptive field of "
        "one output of the second layer?", "5x5",
        (("3x3",
          "each layer's kernel is 3x3, but the second reads 3x3 outputs that each saw 3x3 of the input: 3 + 2 = 5"),
         ("6x6",
          "6 = 3 + 3 counts the overlap twice: neighbouring windows share 2 of their 3 columns, so a layer adds "
          "k - 1 = 2"),
         ("9x9",
          "9 = 3*3 multiplies; at stride 1 fields add k - 1 per layer, they do not multiply")),
        "Each stride-1 3x3 layer adds 2: 3, then 5. n such layers see 2n + 1.",
        (Check("field(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3))", "5"),)),
    Concept(
        "receptive_field", "medium", "How many stacked 3x3 stride-1 convolutions give a receptive field of 11x11?",
        "5 (2*5 + 1 = 11)",
        (("4 (11 / 3, rounded up)",
          "fields do not add the kernel size: overlapping windows make each layer add 2, so 4 layers see 9"),
         ("6 (2 per layer, 6*2 = 12)",
          "that forgets the centre pixel: n layers see 2n + 1, so 6 layers see 13"),
         ("10 (one more pixel per layer)",
          "a 3x3 layer adds one pixel on each side, 2 in all: 10 layers would see 21")),
        "2n + 1 = 11 gives n = 5: 3, 5, 7, 9, 11.",
        (Check("field(*[nn.Conv2d(1, 1, 3) for _ in range(5)])", "11"),)),
    Concept(
        "receptive_field", "medium", "A 3x3 conv with stride 2, then a 3x3 conv with stride 1. Receptive field of "
        "one output of the second layer?", "7x7: the second layer's 2 extra units are 2 input pixels apart",
        (("5x5, as for two stride-1 layers",
          "after stride 2, neighbouring units of the first map are 2 pixels apart in the input, so the second "
          "layer adds (3 - 1) * 2 = 4"),
         ("9x9 (3*3)",
          "fields add, they do not multiply: 3 + (3 - 1) * 2 = 7"),
         ("14x14: 7, doubled again by the stride",
          "the stride multiplies only the spacing seen by later layers; it is already in the 4 the second layer "
          "adds")),
        "r = 3 + (k - 1) * jump = 3 + 2 * 2 = 7. Strides and pooling multiply the jump, so later layers grow the "
        "field faster.",
        (Check("field(nn.Conv2d(1, 1, 3, stride=2), nn.Conv2d(1, 1, 3))", "7"),)),
    Concept(
        "receptive_field", "hard", "Why do deep CNNs see large objects even though every kernel is 3x3?",
        "each layer adds (k-1)*jump to the receptive field, and strides and pooling multiply the jump",
        (("each 3x3 layer multiplies the field by 3, so three layers see 27x27",
          "at stride 1 fields add k - 1 = 2 per layer: three layers see 7x7, not 27x27"),
         ("each layer adds its kernel size, so two 3x3 layers see 6x6",
          "neighbouring windows overlap in 2 of their 3 pixels, so a layer adds k - 1 = 2: two layers see 5x5"),
         ("more channels per layer let each unit see more of the image",
          "channels add kinds of feature, not reach: the field depends only on kernel sizes, strides and "
          "dilations")),
        "Receptive fields grow with depth: two 3x3 layers see 5x5, three see 7x7, faster after strided layers.",
        (Check("field(*[nn.Conv2d(1, 1, 3) for _ in range(3)])", "7"),)),
    Concept(
        "receptive_field", "hard", "A 3x3 conv (stride 1), then a 3x3 conv with dilation 2 (stride 1). Receptive "
        "field of one output of the second layer?", "7x7",
        (("5x5, as without dilation",
          "dilation 2 spreads the second kernel's taps 2 apart, so it adds (3 - 1) * 2 = 4, not 2"),
         ("8x8 (3 + 5: the dilated kernel spans 5)",
          "the spans overlap by one pixel: a layer adds its span minus 1, 5 - 1 = 4, giving 7"),
         ("15x15 (3 * 5)",
          "fields add, they do not multiply: 3 + (3 - 1) * 2 = 7")),
        "A dilated kernel spans d*(k - 1) + 1 = 5 pixels with 9 weights; stacked on a 3x3 it adds 4: 3 + 4 = 7.",
        (Check("field(nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3, dilation=2))", "7"),)),
    # ---------------------------------------------------------------- long range
    Concept(
        "long_range", "easy", "Two pixels are 20 pixels apart. Can one output of a single nn.Conv2d(1, 1, 3) "
        "depend on both?", "no: each output depends only on its 3x3 window",
        (("yes: the kernel slides over both pixels",
          "it visits both, but at different positions, so they land in different outputs"),
         ("yes, if padding=1",
          "padding adds a border of zeros; each window is still 3x3"),
         ("yes, because the weights are shared between positions",
          "sharing reuses the weights; it does not connect the outputs of different positions")),
        "A single 3x3 layer relates pixels at most 2 apart. Relating pixels 20 apart takes depth, stride, "
        "pooling or dilation, or a layer that sees everything (attention, a dense layer).",
        (Check("field(nn.Conv2d(1, 1, 3, padding=1))", "3"),)),
    Concept(
        "long_range", "medium", "Why does a shallow CNN (three 3x3 stride-1 layers) struggle to relate two pixels "
        "100 pixels apart?", "a unit sees only its receptive field, 7x7 after three layers, so the two pixels "
        "never meet in one unit",
        (("because weight sharing forces distant pixels to give the same response",
          "sharing means the same weights at each position; the responses still differ with the pixels under "
          "the kernel"),
         ("it does not: every conv output sees the whole image",
          "each output reads only its window; after three 3x3 layers a unit sees 7x7"),
         ("because the zero padding hides distant pixels",
          "padding only adds zeros around the border; it hides nothing inside the image")),
        "Three 3x3 layers see 2*3 + 1 = 7 pixels per side; pixels 100 apart need far more depth, strides, "
        "pooling or dilation, or attention.",
        (Check("field(*[nn.Conv2d(1, 1, 3) for _ in range(3)])", "7"),)),
    Concept(
        "long_range", "medium", "To relate opposite corners of a 224x224 image, what does a deep CNN rely on?",
        "downsampling by stride or pooling, so that later 3x3 layers cover many input pixels per step",
        (("weight sharing, which links every position to every other",
          "sharing reuses the weights at every position; it does not connect one position's output to another's"),
         ("wide zero padding, so that the windows reach the far corners",
          "padding adds zeros around the border; each window still spans 3 pixels of the map"),
         ("more output channels in the first layer",
          "channels add kinds of feature at the same positions; reach depends on kernel sizes, strides and "
          "dilations")),
        "Each stride-2 step doubles the jump: after 5 halvings (224 -> 7) one step of a 3x3 layer moves 32 input "
        "pixels, so a few layers span the image."),
    Concept(
        "long_range", "hard", "Which of these lets a conv layer reach far without adding weights?",
        "dilation: a 3x3 kernel with dilation 4 spans 9x9 with its 9 weights",
        (("more output channels",
          "more channels mean more filters at the same positions; each still spans 3x3"),
         ("padding of 100 pixels",
          "padding adds zeros around the border (and computation); the kernel's span stays 3"),
         ("a larger batch",
          "the batch holds more images side by side; it changes nothing about what one unit sees")),
        "Dilation d spaces a kernel's taps d apart: span d*(k - 1) + 1 = 4*2 + 1 = 9, still 9 weights. Stacking "
        "dilations 1, 2, 4, ... grows the field exponentially.",
        (Check("field(nn.Conv2d(1, 1, 3, dilation=4))", "9"), Check("reads(nn.Conv2d(1, 1, 3, dilation=4))", "9"))),
    Concept(
        "long_range", "hard", "Without stride, pooling or dilation, how many 3x3 convolutions does a unit need to "
        "see 64 pixels across?", "32 (2*32 + 1 = 65 >= 64)",
        (("22 (64 / 3, rounded up)",
          "layers do not add their kernel size: windows overlap, so each adds 2 and 22 layers see 45"),
         ("64 (one pixel per layer)",
          "a 3x3 layer grows the field by one pixel on each side, 2 in all"),
         ("6 (the field doubles: 2^6 = 64)",
          "doubling needs stride 2 or dilations 1, 2, 4, ...; at stride 1 the field grows linearly")),
        "n layers see 2n + 1: 31 layers see 63, 32 see 65. This linear growth is why CNNs downsample, and why "
        "long-range relations are hard for them.",
        (Check("field(*[nn.Conv2d(1, 1, 3) for _ in range(32)])", "65"),)),
)
