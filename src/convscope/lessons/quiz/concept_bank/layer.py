"""Concept questions on what one convolution does: locality, weight sharing,
equivariance and invariance."""

from .model import Check, Concept

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
)
