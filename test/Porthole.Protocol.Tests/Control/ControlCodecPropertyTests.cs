using CsCheck;
using Porthole.Fuzz;
using Porthole.Protocol.Control;

namespace Porthole.Protocol.Tests.Control;

/// <summary>Issue 8, attack 10: properties of the control codec over random messages and random damage.</summary>
public sealed class ControlCodecPropertyTests
{
    [Fact]
    public void AnyMessage_RoundTripsUnchanged()
    {
        ControlMessageGen.Message.Sample(message =>
        {
            var bytes = ControlMessageSerializer.Serialize(message);

            Assert.True(ControlMessageSerializer.TryParse(bytes, out var parsed, out var error), error);
            Assert.Equal(message, parsed);
        }, iter: 5_000);
    }

    [Fact]
    public void AnyTruncationOfAMessage_IsRefusedWithAReason_NeverThrows()
    {
        Gen.Select(ControlMessageGen.Message, Gen.Double[0, 1]).Sample((message, fraction) =>
        {
            var bytes = ControlMessageSerializer.Serialize(message);
            var cut = (int)(fraction * (bytes.Length - 1));

            // A proper prefix of one JSON object is never a whole object.
            Assert.False(ControlMessageSerializer.TryParse(bytes.AsSpan(0, cut), out var parsed, out var error));
            Assert.Null(parsed);
            Assert.False(string.IsNullOrEmpty(error));
        }, iter: 5_000);
    }

    [Fact]
    public void AnyBytes_AreAMessageOrARefusal_NeverAnException()
    {
        Gen.Byte.Array[0, 300].Sample(bytes => ControlCodecTarget.Run(bytes), iter: 10_000);
    }

    [Fact]
    public void MessagesWithRandomBytesFlippedOrInserted_NeverBreakTheCodec()
    {
        Gen.Select(ControlMessageGen.Message, Gen.Int[0, int.MaxValue].Array[1, 6], Gen.Byte.Array[1, 6]).Sample((message, positions, values) =>
        {
            var bytes = new List<byte>(ControlMessageSerializer.Serialize(message));
            for (var i = 0; i < positions.Length; i++)
            {
                var at = positions[i] % bytes.Count;
                if (i % 2 == 0)
                {
                    bytes[at] = values[i % values.Length];
                }
                else
                {
                    bytes.Insert(at, values[i % values.Length]);
                }
            }

            ControlCodecTarget.Run(bytes.ToArray());
        }, iter: 10_000);
    }
}
