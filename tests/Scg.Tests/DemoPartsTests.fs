/// The MNIST demo's pure parts (examples/Scg.Examples/Parts): the Hungarian matching against brute force, the IDX
/// reader and writer, and the grayscale PNG writer (decoded back by hand).
module Scg.Tests.DemoPartsTests

open System
open System.IO
open System.IO.Compression
open System.Buffers.Binary
open Expecto
open Scg.Examples.Parts

let rec private permutations (items: int list) : int list list =
    match items with
    | [] -> [ [] ]
    | _ -> [ for x in items do for rest in permutations (List.filter ((<>) x) items) -> x :: rest ]

let private total (cost: float[,]) (assignment: int[]) = assignment |> Array.mapi (fun row col -> cost.[row, col]) |> Array.sum

let private chunks (png: byte[]) =
    let mutable at = 8
    [ while at < png.Length do
        let length = BinaryPrimitives.ReadInt32BigEndian(ReadOnlySpan(png, at, 4))
        let kind = Text.Encoding.ASCII.GetString(png, at + 4, 4)
        let data = png.[at + 8 .. at + 8 + length - 1]
        let crc = BinaryPrimitives.ReadUInt32BigEndian(ReadOnlySpan(png, at + 8 + length, 4))
        yield kind, data, crc
        at <- at + 12 + length ]

[<Tests>]
let tests =
    testList "demo parts" [
        test "Hungarian: the least total cost equals brute force on random 5×5 matrices, and is a permutation" {
            let rng = Random(7)
            let all = permutations [ 0 .. 4 ] |> List.map List.toArray
            for trial in 1 .. 300 do
                // integer costs with ties half of the time, real costs otherwise
                let cost = Array2D.init 5 5 (fun _ _ -> if trial % 2 = 0 then float (rng.Next 4) else rng.NextDouble() * 10.0 - 5.0)
                let assignment = Hungarian.Minimise cost
                Expect.sequenceEqual (Array.sort assignment) [| 0 .. 4 |] "a one-to-one matching"
                let best = all |> List.map (total cost) |> List.min
                Expect.floatClose Accuracy.veryHigh (total cost assignment) best (sprintf "trial %d: optimal" trial)
            // maximising counts: the diagonal of a permuted identity is recovered
            let counts = Array2D.init 4 4 (fun i j -> if j = (i + 1) % 4 then 9.0 else 1.0)
            Expect.sequenceEqual (Hungarian.Maximise counts) [| 1; 2; 3; 0 |] "the matching of largest counts"
            Expect.sequenceEqual (Hungarian.Minimise(Array2D.zeroCreate 0 0)) [||] "an empty matrix"
            ErrorTests.throwsMentioning [ "not square" ] (fun () -> Hungarian.Minimise(Array2D.zeroCreate 2 3) |> ignore)
        }

        test "IDX: written arrays read back, gzipped or not; truncated or foreign files are errors saying so" {
            let images = IdxArray([| 3; 2; 4 |], Array.init 24 byte)
            use stream = new MemoryStream()
            Idx.Write(stream, images)
            let bytes = stream.ToArray()
            Expect.sequenceEqual bytes.[0..7] [| 0uy; 0uy; 8uy; 3uy; 0uy; 0uy; 0uy; 3uy |] "magic 0x00000803, then the big-endian count"
            let back = Idx.Read(new MemoryStream(bytes))
            Expect.sequenceEqual back.Dimensions images.Dimensions "dimensions"
            Expect.sequenceEqual back.Data images.Data "data"
            let path = Path.Combine(Path.GetTempPath(), sprintf "scg-idx-%O-labels-idx1-ubyte.gz" (Guid.NewGuid()))
            try
                do
                    use file = File.Create path
                    use gzip = new GZipStream(file, CompressionLevel.Fastest)
                    Idx.Write(gzip, IdxArray([| 5 |], [| 9uy; 8uy; 7uy; 6uy; 5uy |]))
                let labels = Idx.Read path
                Expect.sequenceEqual labels.Data [| 9uy; 8uy; 7uy; 6uy; 5uy |] "gzipped labels"
            finally File.Delete path
            ErrorTests.throwsMentioning [ "truncated"; "data" ] (fun () -> Idx.Read(new MemoryStream(bytes.[0 .. bytes.Length - 2])) |> ignore)
            ErrorTests.throwsMentioning [ "0x0d"; "unsigned bytes" ] (fun () -> Idx.Read(new MemoryStream([| 0uy; 0uy; 0x0Duy; 1uy; 0uy; 0uy; 0uy; 1uy; 0uy; 0uy; 0uy; 0uy |])) |> ignore)
            ErrorTests.throwsMentioning [ "do not fill" ] (fun () -> Idx.Write(new MemoryStream(), IdxArray([| 2; 2 |], [| 1uy |])))
        }

        test "PNG: signature, IHDR, CRCs and the zlib-compressed rows of a grayscale image" {
            let pixels = [| 0uy; 64uy; 128uy; 255uy; 10uy; 20uy |]
            let png = GrayPng.Encode(pixels, 3, 2)
            Expect.sequenceEqual png.[0..7] [| 0x89uy; 0x50uy; 0x4Euy; 0x47uy; 0x0Duy; 0x0Auy; 0x1Auy; 0x0Auy |] "signature"
            let parts = chunks png
            Expect.sequenceEqual (parts |> List.map (fun (k, _, _) -> k)) [ "IHDR"; "IDAT"; "IEND" ] "chunks"
            for kind, data, crc in parts do
                Expect.equal crc (GrayPng.Crc32(ReadOnlySpan(Array.append (Text.Encoding.ASCII.GetBytes kind) data))) (kind + "'s CRC")
            let _, iend, iendCrc = parts.[2]
            Expect.equal iendCrc 0xAE426082u "IEND's well-known CRC"
            Expect.isEmpty iend "IEND is empty"
            let _, header, _ = parts.[0]
            Expect.sequenceEqual header [| 0uy; 0uy; 0uy; 3uy; 0uy; 0uy; 0uy; 2uy; 8uy; 0uy; 0uy; 0uy; 0uy |] "3×2, 8-bit grayscale"
            let _, idat, _ = parts.[1]
            use zlib = new ZLibStream(new MemoryStream(idat), CompressionMode.Decompress)
            use raw = new MemoryStream()
            zlib.CopyTo raw
            Expect.sequenceEqual (raw.ToArray()) [| 0uy; 0uy; 64uy; 128uy; 0uy; 255uy; 10uy; 20uy |] "filter byte 0, then each row"
            ErrorTests.throwsMentioning [ "5 pixels"; "3×2" ] (fun () -> GrayPng.Encode(pixels.[0..4], 3, 2) |> ignore)
        }
    ]
