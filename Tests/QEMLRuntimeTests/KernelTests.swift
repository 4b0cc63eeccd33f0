import XCTest
import QEMLIR
import QEMLTensor
@testable import QEMLRuntime

/// Each kernel against small cases worked out by hand.
final class KernelTests: XCTestCase {
    let x33 = iota([1, 1, 3, 3], from: 1)  // 1…9

    func testConvPlain() throws {
        let w = Tensor(shape: [1, 1, 2, 2], repeating: 1)
        let y = try runOp("conv2d", [.input(x33), .weight(w)], [("out", .int(1)), ("kernel", .ints([2, 2]))])[0]
        XCTAssertEqual(y, tensor([1, 1, 2, 2], [12, 16, 24, 28]))
    }

    func testConvPaddingStrideDilation() throws {
        // Padding 1, stride 2: windows centred on the corners and centre of the 3×3 image.
        let w = Tensor(shape: [1, 1, 3, 3], repeating: 1)
        let y = try runOp("conv2d", [.input(x33), .weight(w)], [("out", .int(1)), ("kernel", .ints([3, 3])), ("stride", .ints([2, 2])), ("padding", .ints([1, 1]))])[0]
        XCTAssertEqual(y, tensor([1, 1, 2, 2], [1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9]))
        // Dilation 2 on a 2×2 kernel reads the four corners.
        let wd = tensor([1, 1, 2, 2], [1, 10, 100, 1000])
        let yd = try runOp("conv2d", [.input(x33), .weight(wd)], [("out", .int(1)), ("kernel", .ints([2, 2])), ("dilation", .ints([2, 2]))])[0]
        XCTAssertEqual(yd, tensor([1, 1, 1, 1], [1 + 30 + 700 + 9000]))
    }

    func testConvGroupsAndChannels() throws {
        // Two input channels, groups=2: each output sees only its own channel.
        let x = tensor([1, 2, 1, 2], [1, 2, 10, 20])
        let w = tensor([2, 1, 1, 1], [3, 5])
        let y = try runOp("conv2d", [.input(x), .weight(w)], [("out", .int(2)), ("kernel", .ints([1, 1])), ("groups", .int(2))])[0]
        XCTAssertEqual(y, tensor([1, 2, 1, 2], [3, 6, 50, 100]))
        // groups=1: each output sums over both channels.
        let w1 = tensor([1, 2, 1, 1], [3, 5])
        let y1 = try runOp("conv2d", [.input(x), .weight(w1)], [("out", .int(1)), ("kernel", .ints([1, 1]))])[0]
        XCTAssertEqual(y1, tensor([1, 1, 1, 2], [53, 106]))
    }

    func testConvEpilogueOrder() throws {
        // conv → +bias → BN → +residual → relu, then avg and max of the result.
        let x = tensor([1, 1, 1, 3], [1, -2, 3])
        let w = tensor([1, 1, 1, 1], [2])
        let operands: [Operand] = [.input(x), .weight(w), .weight(tensor([1], [1])),
                                   .weight(tensor([1], [3])), .weight(tensor([1], [0.5])), .weight(tensor([1], [2])), .weight(tensor([1], [4 - 1e-5])),
                                   .input(tensor([1, 1, 1, 3], [0, 10, -100]))]
        let attrs: [(String, Attribute)] = [("out", .int(1)), ("kernel", .ints([1, 1])), ("activation", .string("relu")), ("pool", .string("avgmax"))]
        let r = try runOp("conv2d", operands, attrs)
        // conv+bias: 3, -3, 7; BN: (v-2)/2*3+0.5 = 2, -7, 8; +residual: 2, 3, -92; relu: 2, 3, 0.
        assertClose(r[0], tensor([1, 1, 1, 3], [2, 3, 0]), tolerance: 1e-6)
        assertClose(r[1], tensor([1, 1, 1, 1], [5.0 / 3]), tolerance: 1e-6)
        assertClose(r[2], tensor([1, 1, 1, 1], [3]), tolerance: 1e-6)
        // Sigmoid activation.
        let s = try runOp("conv2d", [.input(tensor([1, 1, 1, 1], [0])), .weight(tensor([1, 1, 1, 1], [1]))],
                          [("out", .int(1)), ("kernel", .ints([1, 1])), ("activation", .string("sigmoid"))])[0]
        XCTAssertEqual(s.data, [0.5])
    }

    func testBatchnorm() throws {
        let x = tensor([1, 2, 1, 2], [1, 2, 3, 4])
        let y = try runOp("batchnorm", [.input(x), .weight(tensor([2], [1, 2])), .weight(tensor([2], [0, 1])),
                                        .weight(tensor([2], [1, 3])), .weight(tensor([2], [1, 4]))], [("eps", .float(0))])[0]
        XCTAssertEqual(y, tensor([1, 2, 1, 2], [0, 1, 1, 2]))
    }

    func testElementwiseAndBroadcasting() throws {
        let a = tensor([2, 3], [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try runOp("add", [.input(a), .input(tensor([3], [10, 20, 30]))])[0], tensor([2, 3], [11, 22, 33, 14, 25, 36]))
        XCTAssertEqual(try runOp("mul", [.input(tensor([2, 1], [2, 3])), .input(tensor([1, 3], [1, 10, 100]))])[0],
                       tensor([2, 3], [2, 20, 200, 3, 30, 300]))
        // CBAM's channel scale: [N,C,H,W] × [N,C,1,1].
        XCTAssertEqual(try runOp("mul", [.input(iota([1, 2, 1, 2])), .input(tensor([1, 2, 1, 1], [10, 100]))])[0],
                       tensor([1, 2, 1, 2], [0, 10, 200, 300]))
        XCTAssertEqual(try runOp("relu", [.input(tensor([3], [-1, 0, 2]))])[0].data, [0, 0, 2])
        assertClose(try runOp("sigmoid", [.input(tensor([2], [0, 2]))])[0], tensor([2], [0.5, 0.8807970779778823]))
        assertClose(try runOp("tanh", [.input(tensor([2], [0, 1]))])[0], tensor([2], [0, 0.7615941559557649]))
        XCTAssertEqual(try runOp("scale", [.input(tensor([2], [1, -2]))], [("by", .float(2.5))])[0].data, [2.5, -5])
    }

    func testSoftmaxIsStable() throws {
        let y = try runOp("softmax", [.input(tensor([2, 3], [1000, 1000, 1000, 0, 0, 1000]))])[0]
        assertClose(y, tensor([2, 3], [1.0 / 3, 1.0 / 3, 1.0 / 3, 0, 0, 1]))
        let z = try runOp("softmax", [.input(tensor([1, 2], [0, Float(log(3.0))]))])[0]
        assertClose(z, tensor([1, 2], [0.25, 0.75]))
    }

    func testMaxPoolPaddingIsMinusInfinity() throws {
        // All-negative input: zero padding would win; −inf padding does not.
        let x = Tensor(shape: [1, 1, 2, 2], data: [-1, -2, -3, -4])
        let y = try runOp("maxpool2d", [.input(x)], [("kernel", .ints([2, 2])), ("stride", .ints([1, 1])), ("padding", .ints([1, 1]))])[0]
        XCTAssertEqual(y, tensor([1, 1, 3, 3], [-1, -1, -2, -1, -1, -2, -3, -3, -4]))
    }

    func testAvgPoolCountsPadding() throws {
        let y = try runOp("avgpool2d", [.input(x33)], [("kernel", .ints([2, 2])), ("stride", .ints([2, 2])), ("padding", .ints([1, 1]))])[0]
        // Windows: {1}, {2,3}, {4,7}, {5,6,8,9}, each divided by 4.
        XCTAssertEqual(y, tensor([1, 1, 2, 2], [0.25, 1.25, 2.75, 7]))
    }

    func testCeilModeDropsWindowStartingInPadding() throws {
        // 5×5, k=2, s=2, p=1, ceil: 4 windows by the ceil rule, the last starts at padded 6 ≥ 5+1 → 3.
        let x = iota([1, 1, 5, 5])
        let y = try runOp("maxpool2d", [.input(x)], [("kernel", .ints([2, 2])), ("stride", .ints([2, 2])), ("padding", .ints([1, 1])), ("ceil_mode", .bool(true))])[0]
        XCTAssertEqual(y, tensor([1, 1, 3, 3], [0, 2, 4, 10, 12, 14, 20, 22, 24]))
        // 4×4, k=3, s=2, no padding, ceil: windows at 0 and 2 (the second clipped to 2 columns).
        let z = try runOp("avgpool2d", [.input(iota([1, 1, 4, 4]))], [("kernel", .ints([3, 3])), ("stride", .ints([2, 2])), ("ceil_mode", .bool(true))])[0]
        // Window (0,0): mean of 0,1,2,4,5,6,8,9,10 = 5. Window (0,2): {2,3,6,7,10,11} / 6 (clipped to the input, no padding to count).
        XCTAssertEqual(z.shape, [1, 1, 2, 2])
        XCTAssertEqual(z.data[0], 5)
        XCTAssertEqual(z.data[1], Float(2 + 3 + 6 + 7 + 10 + 11) / 6)
        XCTAssertEqual(z.data[3], Float(10 + 11 + 14 + 15) / 4)
    }

    func testGlobalAndChannelReductions() throws {
        let x = tensor([1, 2, 1, 2], [1, 3, -5, 7])
        XCTAssertEqual(try runOp("global_avgpool", [.input(x)])[0], tensor([1, 2, 1, 1], [2, 1]))
        XCTAssertEqual(try runOp("global_maxpool", [.input(x)])[0], tensor([1, 2, 1, 1], [3, 7]))
        XCTAssertEqual(try runOp("channel_mean", [.input(x)])[0], tensor([1, 1, 1, 2], [-2, 5]))
        XCTAssertEqual(try runOp("channel_max", [.input(x)])[0], tensor([1, 1, 1, 2], [1, 7]))
    }

    func testConcatFlattenDense() throws {
        let a = tensor([1, 1, 1, 2], [1, 2]), b = tensor([1, 2, 1, 2], [3, 4, 5, 6])
        XCTAssertEqual(try runOp("concat", [.input(a), .input(b)], [("axis", .int(1))])[0], tensor([1, 3, 1, 2], [1, 2, 3, 4, 5, 6]))
        XCTAssertEqual(try runOp("concat", [.input(tensor([2, 1], [1, 2])), .input(tensor([2, 2], [3, 4, 5, 6]))], [("axis", .int(1))])[0],
                       tensor([2, 3], [1, 3, 4, 2, 5, 6]))
        XCTAssertEqual(try runOp("concat", [.input(tensor([1, 2], [1, 2])), .input(tensor([2, 2], [3, 4, 5, 6]))], [("axis", .int(0))])[0],
                       tensor([3, 2], [1, 2, 3, 4, 5, 6]))
        XCTAssertEqual(try runOp("flatten", [.input(b)])[0], tensor([1, 4], [3, 4, 5, 6]))
        let y = try runOp("dense", [.input(tensor([2, 2], [1, 2, 3, 4])), .weight(tensor([3, 2], [1, 0, 0, 1, 1, 1])), .weight(tensor([3], [0, 10, 100]))],
                          [("out", .int(3))])[0]
        XCTAssertEqual(y, tensor([2, 3], [1, 12, 103, 3, 14, 107]))
    }

    func testMalformedAttributesAreErrorsNotCrashes() {
        let w = Tensor(shape: [1, 1, 2, 2], repeating: 1)
        func message(_ attrs: [(String, Attribute)], _ op: String = "conv2d") -> String {
            do {
                _ = try runOp(op, op == "conv2d" ? [.input(x33), .weight(w)] : [.input(x33)], attrs, resultTypes: [[1, 1, 2, 2]])
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(message([("out", .int(1)), ("kernel", .ints([2, 2])), ("stride", .ints([1, 1, 1]))]),
                       "error: conv2d: stride must be two integers ≥ 1, got [1, 1, 1]")
        XCTAssertEqual(message([("out", .int(1)), ("kernel", .ints([3, 3]))]), "error: conv2d: kernel=[3, 3] but the weight is [1,1,2,2]")
        XCTAssertEqual(message([("kernel", .ints([2, 2])), ("padding", .int(-1))], "maxpool2d"),
                       "error: maxpool2d: padding must be two integers ≥ 0, got [-1]")
        // One int means both directions.
        XCTAssertEqual(message([("out", .int(1)), ("kernel", .int(2)), ("stride", .int(1))]), "no error")
    }
}
