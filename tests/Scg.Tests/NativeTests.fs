module Scg.Tests.NativeTests
