"""The concept questions: one per claim the lessons make about why convolution finds spatial patterns.

Each item names its claim (``tag``), its right answer with a worked explanation, and three wrong
answers that learners really give, each with its own reason: why it tempts, and why it is wrong.
Where an item states a number torch can compute (a parameter count, an output size, a receptive
field), ``checks`` holds the computation and the number as the item writes it; the tests run it.
"""

from __future__ import annotations

from dataclasses import dataclass

TAGS = ("locality", "sharing", "equivariance", "invariance", "pooling", "hierarchy", "receptive_field",
        "long_range", "rotation_scale", "flattening", "padding_stride", "channels")


@dataclass(frozen=True)
class Check:
    """A number an item states, and a torch expression that computes it.

    ``expression`` is evaluated with ``torch``, ``nn`` and ``F`` in scope, plus the tests' helpers:
    ``field(*layers)`` (the side of one output unit's receptive field, from autograd), ``reads(*layers)``
    (how many input positions it depends on) and ``pooled_shift(layer, shift)`` (how far the output
    moves when the input is rolled by ``shift`` columns). ``value`` is the number as the item's text
    writes it (thousands separated by commas).
    """

    expression: str
    value: str


@dataclass(frozen=True)
class Concept:
    tag: str
    difficulty: str
    question: str
    answer: str
    wrong: tuple[tuple[str, str], ...]  # (wrong answer, why a learner picks it and why it is wrong)
    explanation: str
    checks: tuple[Check, ...] = ()


BANK: tuple[Concept, ...] = (
    # ---------------------------------------------------------------- locality
    Concept(
        "locality", "easy", "Why do CNNs slide small filters over an image instead of connecting each unit to "
        "every pixel?", "to detect local patterns such as edges and textures, which depend on a pixel's neighbours",
        (("to shrink the image as fast as possible",
          "shrinking is the job of stride and pooling: a 3x3 filter at stride 1 trims only one pixel per border "
          "(28x28 becomes 26x26), and with padding 1 not even that"),
         ("so that each position can learn its own weights",
          "that is a locally connected layer; a convolution reuses the same small kernel at every position "
          "(locality and weight sharing are two separate ideas)"),
         ("to make the network rotation invariant",
          "a small filter still has an orientation: a vertical-edge kernel does not fire on a horizontal edge")),
        "An edge is decided by a handful of neighbouring pixels, so each output reads only a small window "
        "(3x3 = 9 values) and writes its score into a feature map at the same place."),
    Concept(
        "locality", "easy", "How many input values does one output value of nn.Conv2d(1, 1, 3) (stride 1, no "
        "padding) depend on?", "9: the 3x3 window under it",
        (("all 784 pixels of a 28x28 image",
          "that is a neuron of nn.Linear(784, ...) after Flatten; a convolution output reads only its window"),
         ("3: kernel_size=3 is one row of 3 weights",
          "in Conv2d an int kernel_size means a square kernel, kernel_size=3 is 3x3 (a row of 3 is Conv1d's)"),
         ("1: the pixel at the same position",
          "only a 1x1 convolution reads a single position; a 3x3 kernel reaches one pixel in every direction")),
        "Each output is the sum of a 3x3 patch times the 3x3 kernel (plus the bias): 9 input values, whatever "
        "the image size.",
        (Check("reads(nn.Conv2d(1, 1, 3))", "9"),)),
    Concept(
        "locality", "medium", "A flattened 224x224 RGB image feeds nn.Linear(150528, 64); the same image feeds "
        "nn.Conv2d(3, 64, 3). How many weights does ONE output unit use in each?",
        "150,528 in the Linear (every input value); 27 in the conv (a 3x3 window across the 3 channels)",
        (("150,528 in the Linear; 9 in the conv, since a 3x3 kernel has 9 weights",
          "the kernel of one output channel spans all 3 input channels, so it is 3x3x3 = 27 weights, not 9"),
         ("150,528 in the Linear; 1,728 in the conv, its whole 64x3x3x3 weight",
          "1,728 weights make all 64 filters; one output unit belongs to one output channel and uses only its "
          "own 27"),
         ("150,528 in both: the kernel visits every position",
          "visiting every position takes many outputs; each single output reads only the window under it")),
        "A Linear unit is connected to all 224*224*3 = 150,528 inputs. A conv unit is connected to a local "
        "3x3 window through all 3 channels: 3*3*3 = 27 weights (conv.weight[0] has 27 entries).",
        (Check("nn.Linear(150528, 1).weight.numel()", "150,528"), Check("nn.Conv2d(3, 64, 3).weight[0].numel()",
                                                                         "27"))),
    Concept(
        "locality", "medium", "What does local connectivity assume about images?",
        "that the pixels deciding a small feature such as an edge lie close together, so a few neighbours suffice",
        (("that distant pixels never matter for the prediction",
          "locality is a property of each layer, not of the network: stacked layers combine far-apart regions as "
          "the receptive field grows"),
         ("that the same pattern can appear anywhere in the image",
          "that is the assumption behind weight sharing; locality only says how far one output looks"),
         ("that the object is centred in the image",
          "MNIST's digits happen to be centred, but a conv layer scans every position and assumes nothing about "
          "where the object is")),
        "Each conv output reads a k x k neighbourhood, which matches how pixel structure behaves: a few neighbours "
        "decide 'edge'. Deeper layers see more because their windows read maps that already summarise "
        "neighbourhoods."),
    Concept(
        "locality", "medium", "The top-left 2x2 patch [[1, 2], [5, 3]] meets the kernel [[1, 0], [0, -1]] in "
        "F.conv2d. What is the output value?", "-2",
        (("2",
          "that flips the kernel first, as the textbook definition of convolution does; F.conv2d computes "
          "cross-correlation and never flips: 1*1 + 2*0 + 5*0 + 3*(-1)"),
         ("0",
          "the kernel's weights sum to 0, so it gives 0 on a flat patch, but this patch is not flat (1 and 3 "
          "differ)"),
         ("11",
          "11 = 1 + 2 + 5 + 3 sums the patch without multiplying by the weights; that is what an all-ones kernel "
          "would give")),
        "Multiply element by element and sum: 1*1 + 2*0 + 5*0 + 3*(-1) = -2. One window, one number: that is "
        "the whole core of convolution.",
        (Check("F.conv2d(torch.tensor([[[[1., 2.], [5., 3.]]]]), torch.tensor([[[[1., 0.], [0., -1.]]]])).item()",
               "-2"),)),
    Concept(
        "locality", "hard", "A locally connected layer keeps convolution's locality but drops weight sharing: its "
        "own 3x3 kernel at each position. 1 channel in and out, 32x32 input, padding 1, no bias: how many "
        "weights?", "9,216 = 32*32 positions * 9 weights",
        (("9",
          "9 is the count with weight sharing, which this layer drops: each of the 1,024 positions has its own "
          "3x3 kernel"),
         ("1,048,576 = 1024 * 1024",
          "that is a dense layer from 1,024 pixels to 1,024 outputs; local connections still give each output "
          "only 9 inputs"),
         ("1,024: one weight per position",
          "each position's kernel is 3x3, so it carries 9 weights, not 1")),
        "Locality alone cuts a dense 1024x1024 layer (1,048,576 weights) to 1,024 windows of 9 (9,216); sharing "
        "one kernel across the windows cuts it again to 9. F.unfold shows the 9 x 1,024 windows.",
        (Check("F.unfold(torch.zeros(1, 1, 32, 32), 3, padding=1).shape[1:].numel()", "9,216"),)),
    # ---------------------------------------------------------------- sharing
    Concept(
        "sharing", "easy", "Sliding the same kernel over every position of an image is called...", "weight sharing",
        (("local connectivity",
          "local connectivity is the other half of the idea: each output reads a small window; it says nothing "
          "about whether the windows reuse the same weights"),
         ("pooling",
          "pooling slides a window too, but it has no weights to share: it takes the max or the mean"),
         ("translation invariance",
          "sharing makes a conv layer translation equivariant (the map moves with the input), and that is a "
          "consequence, not the name of the mechanism")),
        "One set of weights is reused at every position: a 3x3 kernel has 9 weights whatever the image size."),
    Concept(
        "sharing", "easy", "A single-channel 3x3 kernel (no bias) slides over a 224x224 image. How many weights "
        "does it have?", "9, reused at every one of the ~50,000 positions",
        (("50,176: one per position (224*224)",
          "that counts the positions the kernel visits, not the weights; the same 9 serve every position"),
         ("451,584: 9 per position",
          "9 weights per position is a locally connected layer; a convolution shares one 3x3 kernel"),
         ("81 = 9*9",
          "9 weights slide across the image; nothing multiplies them by 9 (each press reads 9 pixels with the "
          "same 9 weights)")),
        "nn.Conv2d(1, 1, 3, bias=False) has 9 parameters whatever the input; they are used 222*222 = 49,284 times "
        "on a 224x224 image without padding (about 50,000).",
        (Check("sum(p.numel() for p in nn.Conv2d(1, 1, 3, bias=False).parameters())", "9"),
         Check("nn.Conv2d(1, 1, 3)(torch.zeros(1, 1, 224, 224))[0, 0].numel()", "49,284"))),
    Concept(
        "sharing", "medium", "How does the number of weights of nn.Conv2d(3, 16, 3) change when the input grows "
        "from 32x32 to 224x224?", "it does not change: 16*3*3*3 + 16 = 448",
        (("it grows about 49 times, with the number of pixels",
          "that is how a dense layer behaves; (224/32)^2 = 49 more pixels means more positions for the same "
          "kernel, not more weights"),
         ("the 432 kernel weights stay, but the bias grows to one per output position",
          "a conv has one bias per output channel (bias shape (16,)), added at every position"),
         ("it does not change: 16*3*3 + 16 = 160",
          "right that it does not change, but the count forgets the 3 input channels: each of the 16 kernels is "
          "3x3x3")),
        "The kernel is shared over positions, so its size depends on channels and kernel size only: weight "
        "(16, 3, 3, 3) = 432 and bias (16,), 448 in all, for any image size.",
        (Check("sum(p.numel() for p in nn.Conv2d(3, 16, 3).parameters())", "448"),)),
    Concept(
        "sharing", "medium", "Why does weight sharing help a CNN recognise a pattern wherever it appears?",
        "the same kernel is applied at every position, so a pattern learned in one place is detected everywhere",
        (("because shared weights make the network invariant to every transformation",
          "sharing is over positions only: a kernel has an orientation and a scale, so rotations and zooms "
          "still change its response"),
         ("because each position learns its own copy, and the copies are averaged after training",
          "there are no copies: the layer holds one weight tensor, and every position reads that same tensor "
          "during training and after it"),
         ("because sharing lets each kernel see the whole image at once",
          "a shared 3x3 kernel still reads 3x3 at each press; sharing is about reuse, not reach")),
        "An edge detector trained on edges at the top left fires on the same edge at the bottom right, because it "
        "is literally the same 9 numbers. A dense network would have to learn the pattern at every location "
        "separately."),
    Concept(
        "sharing", "hard", "nn.Conv2d(1, 1, 3, bias=False) runs on a 5x5 input of ones, and the loss is the sum "
        "of its output. What is the gradient of each kernel weight?",
        "9: one contribution from each of the 3x3 output positions, summed",
        (("1: the gradient of a single position",
          "the weight is used at all 9 output positions (5 - 3 + 1 = 3 per side), and autograd adds up every use"),
         ("25: one per input pixel",
          "only 9 windows fit in a 5x5 input; each weight meets 9 input pixels (all ones), not all 25"),
         ("1/9: the average over the positions",
          "autograd sums the contributions of a reused tensor; it would average only if the loss were the mean")),
        "A shared weight's gradient is the sum of its gradients at every position it was applied: here each output "
        "is the sum of 9 ones times the weights, so d(loss)/d(w) = 9 for every weight.",
        (Check("(lambda conv: (conv(torch.ones(1, 1, 5, 5)).sum().backward(), conv.weight.grad.unique().item())[1])"
               "(nn.Conv2d(1, 1, 3, bias=False))", "9"),)),
    Concept(
        "sharing", "hard", "From a 1x28x28 image to 6 maps of 26x26: how many weights (no biases) does "
        "nn.Linear(784, 6*26*26) need, and how many does nn.Conv2d(1, 6, 3)?", "3,179,904 for the Linear, 54 for "
        "the conv",
        (("4,704 for the Linear (784*6), 54 for the conv",
          "a Linear to 6 maps of 26x26 has 6*26*26 = 4,056 outputs, not 6, and each needs its own 784 weights"),
         ("3,179,904 for the Linear, 36,504 for the conv",
          "36,504 = 6*26*26*9 gives every output position its own 3x3 kernel; sharing keeps one per map"),
         ("3,179,904 for the Linear, 9 for the conv",
          "each of the 6 output channels has its own 3x3 kernel: 6*1*3*3 = 54")),
        "The Linear needs 784 * 4,056 = 3,179,904 weights; the conv needs 6 kernels of 3x3 = 54 and produces the "
        "same output shape (6, 26, 26).",
        (Check("nn.Linear(784, 6 * 26 * 26, bias=False).weight.numel()", "3,179,904"),
         Check("nn.Conv2d(1, 6, 3, bias=False).weight.numel()", "54"))),
    # ---------------------------------------------------------------- equivariance
    Concept(
        "equivariance", "easy", "What does translation equivariance of a convolution mean?",
        "shifting the input shifts the feature map by the same amount",
        (("the feature map does not change when the input shifts",
          "that is invariance; a conv layer's map moves with the input, it does not stay put"),
         ("the output has the same size as the input",
          "that is 'same' padding, a property of shapes (padding 1 for a 3x3 kernel), not of shifts"),
         ("the layer uses the same weights at every position",
          "that is weight sharing, the cause; equivariance is what it gives: conv(shift(x)) = shift(conv(x))")),
        "conv(shift(x)) = shift(conv(x)) away from the borders: a stamp pressed on a moved image inks the same blot "
        "moved by the same amount."),
    Concept(
        "equivariance", "easy", "An edge detector fires at column 10 of its feature map. The image moves 3 pixels "
        "to the right (stride 1, padding 1, far from the borders). Where does it fire now?", "at column 13",
        (("at column 10, since the kernel did not change",
          "the kernel is the same, but the edge moved under it: the response moves with the edge (equivariance, "
          "not invariance)"),
         ("at column 7",
          "moving the image to the right raises the column index of everything in it, the response included"),
         ("it no longer fires: a moved edge is a new pattern to the kernel",
          "the same kernel is applied at every position, so the edge is detected wherever it is")),
        "With stride 1 one output column per input column: the response moves by exactly the shift, 10 + 3 = 13."),
    Concept(
        "equivariance", "medium", "Shift an image right by 4 pixels and apply a stride-1 convolution. The output...",
        "shifts right by 4 pixels as well (equivariance), away from the borders",
        (("stays exactly the same (invariance)",
          "conv layers do not summarise over positions; only pooling over positions (e.g. global pooling) "
          "removes where a feature is"),
         ("changes unpredictably, because other weights now see the object",
          "that is true of a dense layer after Flatten; a conv applies the same weights everywhere, so the "
          "object meets the same kernel"),
         ("shifts right by 4 pixels everywhere, exactly, borders included",
          "at the borders the zero padding enters: the columns that slide in are new, and the ones that slide "
          "out are lost")),
        "Convolution commutes with translation: conv(shift(x)) = shift(conv(x)), except where the padding enters.",
        (Check("pooled_shift(nn.Conv2d(1, 1, 3, padding=1, padding_mode='circular'), 4)", "4"),)),
    Concept(
        "equivariance", "medium", "Which of these layers is NOT translation equivariant (away from the borders)?",
        "nn.Linear applied to the flattened feature map",
        (("nn.ReLU",
          "ReLU acts on each value by itself, so a shifted input gives the same activations, shifted"),
         ("nn.Conv2d with stride 1",
          "a stride-1 conv is the textbook equivariant layer: conv(shift(x)) = shift(conv(x))"),
         ("a 1x1 convolution",
          "a 1x1 conv mixes channels at each position with the same matrix, so the result moves with the input")),
        "A Linear gives each flattened index its own weights: a feature moved by one pixel meets different weights, "
        "so its output is not a shifted copy of anything."),
    Concept(
        "equivariance", "hard", "Why does stride 2 break translation equivariance for a shift of 1 pixel?",
        "the output samples every second position, so a 1-pixel shift falls between output samples",
        (("it does not: the output shifts by 1 position too",
          "a stride-2 output has one sample per 2 input pixels; it can move by whole samples only, i.e. by input "
          "shifts of 2, 4, 6, ..."),
         ("because the zero padding at the border enters the output",
          "the padding disturbs only the border columns; the break from stride 2 happens in the middle too"),
         ("because a strided convolution has fewer weights",
          "the stride changes where the kernel is pressed, not the kernel: Conv2d(1, 1, 3, stride=2) still has "
          "9 weights and 1 bias")),
        "With stride s only shifts by multiples of s move the output cleanly (aliasing otherwise): shift by 2 and "
        "the stride-2 output moves by 1 sample.",
        (Check("pooled_shift(nn.Conv2d(1, 1, 3, stride=2, padding=1, padding_mode='circular'), 2)", "1"),)),
    Concept(
        "equivariance", "hard", "nn.MaxPool2d(2) (stride 2) sees an input shifted by 2 pixels. Its output...",
        "shifts by 1 position (away from the borders): shifts by multiples of the stride stay equivariant",
        (("shifts by 2 positions, like the input",
          "each output position covers 2 input pixels, so a 2-pixel move is 1 output position"),
         ("does not change at all: pooling makes it invariant",
          "pooling is tolerant only of moves inside a window; a 2-pixel shift moves every 2x2 block to the next "
          "window"),
         ("changes unpredictably, as for a 1-pixel shift",
          "a 1-pixel shift misaligns the 2x2 blocks, but a 2-pixel shift keeps every block whole, just one window "
          "over")),
        "The 2x2 blocks of the shifted input are the old blocks, one window along: 2 / 2 = 1 output position.",
        (Check("pooled_shift(nn.MaxPool2d(2), 2)", "1"),)),
    # ---------------------------------------------------------------- invariance
    Concept(
        "invariance", "easy", "What is the difference between equivariance and invariance?",
        "equivariant: the output moves with the input; invariant: the output does not change",
        (("invariant: the output moves with the input; equivariant: the output does not change",
          "the words are swapped: in-variant means not varying; a conv layer's map moves (equivariant)"),
         ("they are two names for the same property",
          "a map that moves is not a map that stays put: conv layers are the first, global pooling the second"),
         ("equivariance is about rotations, invariance about shifts",
          "both words apply to any transformation; a CNN's conv layers are shift-equivariant and neither rotation "
          "equivariant nor rotation invariant")),
        "Convolution is translation equivariant (the feature map shifts with the input); pooling over positions "
        "turns that into (approximate) invariance of the prediction."),
    Concept(
        "invariance", "easy", "A 2x2 max-pool window holds [[1, 9], [3, 2]]. The 9 moves to the other top cell: "
        "[[9, 1], [3, 2]]. The pooled value...", "stays 9: the max does not care where in the window the peak is",
        (("becomes 1, the value now in the top-right",
          "max pooling does not read a fixed cell; it takes the largest of the four, wherever it is"),
         ("becomes 3.75, the window's average",
          "3.75 is what nn.AvgPool2d(2) gives (and it too ignores the order); max pooling returns the largest, 9"),
         ("moves to the next output position",
          "the 9 stayed inside the same 2x2 window, so the same output cell holds it")),
        "Inside one window the max is blind to position: this is where pooling's tolerance of small shifts "
        "comes from.",
        (Check("nn.MaxPool2d(2)(torch.tensor([[[[9., 1.], [3., 2.]]]])).item()", "9"),)),
    Concept(
        "invariance", "medium", "Which part of a typical CNN makes its *prediction* tolerant of small shifts?",
        "pooling and the final global pooling, which summarise over positions",
        (("the convolution alone, which is shift-invariant",
          "convolution is shift-equivariant: its feature map moves with the input, it does not stay the same"),
         ("the fully connected layer after Flatten, which sees all positions at once",
          "seeing all positions is not ignoring them: the Linear gives each position its own weights, so a shift "
          "changes its input"),
         ("the ReLU activations, which discard small differences",
          "ReLU acts on each value by itself, so a shifted input gives shifted activations: it is equivariant, "
          "not invariant")),
        "Convolutions are equivariant (the map moves); pooling over positions turns that into invariance."),
    Concept(
        "invariance", "hard", "nn.AdaptiveAvgPool2d(1) follows the last conv layer (zero padding). What does it "
        "make the network's output insensitive to?",
        "where a feature fired, for objects that move but stay away from the borders",
        (("rotations, because the average over all positions ignores the layout",
          "the average ignores where features are, not what they are: rotating the input changes the oriented "
          "kernels' responses themselves"),
         ("scaling, because it averages a map of any size",
          "accepting any map size is not scale invariance: a larger object gives different feature values, and "
          "different averages"),
         ("every shift, including those that push the object across the border",
          "part of a shifted-out object is lost and the zero padding enters, so the averaged values change")),
        "Global average pooling turns each (C, H, W) map into C numbers, one mean per channel; moving a feature "
        "inside the map moves its response (equivariance) and the mean stays the same."),
    Concept(
        "invariance", "hard", "A CNN with two 2x2 stride-2 max pools is called 'shift invariant'. What really "
        "holds?", "only approximately: small shifts often keep the pooled maxima, but a 1-pixel shift can change "
        "the output (pooling grids misalign)",
        (("exact invariance to every shift up to 4 pixels (2*2)",
          "a 1-pixel shift can carry a maximum across a window boundary into the neighbouring window, changing "
          "the pooled map"),
         ("exact invariance to every shift, since max pooling discards positions",
          "max pooling discards positions only inside each window; which window a feature falls in still "
          "matters"),
         ("no invariance at all: pooling only saves computation",
          "pooling does give tolerance: a peak that moves inside its window leaves the max unchanged")),
        "Each 2x2 stride-2 pool forgives moves inside a window; two of them downsample by 4, so shifts by "
        "multiples of 4 move the map cleanly and other shifts alias. Real robustness comes from pooling plus "
        "training data with shifted objects."),
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
