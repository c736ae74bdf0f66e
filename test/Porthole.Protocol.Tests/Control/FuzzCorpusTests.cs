using Porthole.Fuzz;

namespace Porthole.Protocol.Tests.Control;

/// <summary>
/// The fuzzing harness's target, run briefly and deterministically in every test run: every corpus entry and
/// 50 000 seeded mutations of them (bit flips, byte insertions and deletions, truncations, splices). The real,
/// coverage-guided fuzzer runs outside CI (docs/operations/security.md).
/// </summary>
public sealed class FuzzCorpusTests
{
    private static readonly byte[][] Corpus = [.. Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "fuzz-corpus")).Order().Select(File.ReadAllBytes)];

    [Fact]
    public void Corpus_CoversEveryMessageTypeAndParses()
    {
        Assert.Equal(6, Corpus.Length);
        foreach (var entry in Corpus)
        {
            Assert.True(Porthole.Protocol.Control.ControlMessageSerializer.TryParse(entry, out _, out var error), error);
        }
    }

    [Fact]
    public void SeededMutationsOfTheCorpus_NeverBreakTheCodec()
    {
        var random = new Random(20261125);
        for (var i = 0; i < 50_000; i++)
        {
            var input = Mutate(random, Corpus[random.Next(Corpus.Length)], Corpus[random.Next(Corpus.Length)]);
            try
            {
                ControlCodecTarget.Run(input);
            }
            catch (Exception ex)
            {
                Assert.Fail($"mutation {i} broke the codec ({ex.GetType().Name}: {ex.Message}); input, base64: {Convert.ToBase64String(input)}");
            }
        }
    }

    private static byte[] Mutate(Random random, byte[] entry, byte[] other)
    {
        var bytes = new List<byte>(entry);
        for (var step = random.Next(1, 5); step > 0 && bytes.Count > 0; step--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes.Insert(at, (byte)random.Next(256));
                    break;
                case 2:
                    bytes.RemoveAt(at);
                    break;
                case 3:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default:
                    var from = random.Next(other.Length);
                    bytes.InsertRange(at, other.Skip(from).Take(random.Next(1, 40)));
                    break;
            }
        }

        return [.. bytes];
    }
}
