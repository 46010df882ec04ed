//! A small little-endian binary codec for checkpoints (env states, RNG states, parameters).
//! Readers never panic on malformed input: every read checks the remaining length.

use crate::error::Error;
use crate::learner::{ParamSnapshot, Tensor, TensorData};
use crate::rng::Rng;

/// Appends little-endian values to a byte vector.
#[derive(Default, Debug)]
pub struct Writer {
    /// The bytes written so far.
    pub bytes: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }
    /// Writes a `u64`.
    pub fn u64(&mut self, x: u64) -> &mut Self {
        self.bytes.extend_from_slice(&x.to_le_bytes());
        self
    }
    /// Writes a generator's state (four `u64`s), for exact resume.
    pub fn rng(&mut self, rng: &Rng) -> &mut Self {
        for x in rng.state() {
            self.u64(x);
        }
        self
    }
    /// Writes an `f64` (bit-exact).
    pub fn f64(&mut self, x: f64) -> &mut Self {
        self.u64(x.to_bits())
    }
    /// Writes a length-prefixed `f64` slice.
    pub fn f64s(&mut self, xs: &[f64]) -> &mut Self {
        self.u64(xs.len() as u64);
        xs.iter().for_each(|&x| {
            self.f64(x);
        });
        self
    }
    /// Writes a length-prefixed `f32` slice.
    pub fn f32s(&mut self, xs: &[f32]) -> &mut Self {
        self.u64(xs.len() as u64);
        xs.iter()
            .for_each(|x| self.bytes.extend_from_slice(&x.to_le_bytes()));
        self
    }
    /// Writes length-prefixed bytes.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.u64(b.len() as u64);
        self.bytes.extend_from_slice(b);
        self
    }
    /// Writes a parameter snapshot.
    pub fn snapshot(&mut self, s: &ParamSnapshot) -> &mut Self {
        self.u64(s.version).u64(s.tensors.len() as u64);
        for t in &s.tensors {
            self.bytes(t.name.as_bytes());
            self.u64(t.shape.len() as u64);
            t.shape.iter().for_each(|&d| {
                self.u64(d as u64);
            });
            match &t.data {
                TensorData::F32(v) => self.u64(0).f32s(v),
                TensorData::F64(v) => self.u64(1).f64s(v),
            };
        }
        self
    }
}

/// Reads what a [`Writer`] wrote.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

fn short(what: &str) -> Error {
    Error::Snapshot(format!("truncated or corrupt data while reading {what}"))
}

impl<'a> Reader<'a> {
    /// Reads from `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], Error> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| short(what))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.pos == self.bytes.len()
    }
    /// Reads a `u64`.
    pub fn u64(&mut self) -> Result<u64, Error> {
        let b = self.take(8, "an integer")?;
        Ok(u64::from_le_bytes(
            b.try_into().map_err(|_| short("an integer"))?,
        ))
    }
    /// Reads a generator written by [`Writer::rng`].
    pub fn rng(&mut self) -> Result<Rng, Error> {
        let mut s = [0u64; 4];
        for x in s.iter_mut() {
            *x = self.u64()?;
        }
        Ok(Rng::from_state(s))
    }
    /// Reads an `f64`.
    pub fn f64(&mut self) -> Result<f64, Error> {
        Ok(f64::from_bits(self.u64()?))
    }
    fn len(&mut self, elem: usize, what: &str) -> Result<usize, Error> {
        let n = self.u64()? as usize;
        if n.checked_mul(elem)
            .is_none_or(|b| b > self.bytes.len() - self.pos)
        {
            return Err(short(what));
        }
        Ok(n)
    }
    /// Reads a length-prefixed `f64` vector.
    pub fn f64s(&mut self) -> Result<Vec<f64>, Error> {
        let n = self.len(8, "a float64 array")?;
        (0..n).map(|_| self.f64()).collect()
    }
    /// Reads a length-prefixed `f32` vector.
    pub fn f32s(&mut self) -> Result<Vec<f32>, Error> {
        let n = self.len(4, "a float32 array")?;
        let b = self.take(n * 4, "a float32 array")?;
        Ok(b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
    /// Reads length-prefixed bytes.
    pub fn bytes(&mut self) -> Result<&'a [u8], Error> {
        let n = self.len(1, "bytes")?;
        self.take(n, "bytes")
    }
    /// Reads a parameter snapshot.
    pub fn snapshot(&mut self) -> Result<ParamSnapshot, Error> {
        let version = self.u64()?;
        let n = self.len(1, "tensors")?;
        let mut tensors = Vec::with_capacity(n);
        for _ in 0..n {
            let name =
                String::from_utf8(self.bytes()?.to_vec()).map_err(|_| short("a tensor name"))?;
            let dims = self.len(8, "a shape")?;
            let shape = (0..dims)
                .map(|_| self.u64().map(|d| d as usize))
                .collect::<Result<_, _>>()?;
            let data = match self.u64()? {
                0 => TensorData::F32(self.f32s()?),
                1 => TensorData::F64(self.f64s()?),
                k => return Err(Error::Snapshot(format!("unknown tensor type {k}"))),
            };
            tensors.push(Tensor { name, shape, data });
        }
        Ok(ParamSnapshot { version, tensors })
    }
}

/// Serde adapters that write numeric arrays as one byte string (little-endian) instead of
/// element by element: a 512-transition batch crosses a process boundary as a few `memcpy`s.
#[allow(clippy::modulo_one, reason = "the macro serves 1-byte elements too")]
pub mod raw {
    use serde::de::{SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};
    use std::fmt;

    macro_rules! raw_vec {
        ($name:ident, $t:ty, $n:expr) => {
            /// `#[serde(with = "...")]` for a vector of this element type.
            pub mod $name {
                use super::*;

                /// Serializes as little-endian bytes.
                pub fn serialize<S: Serializer>(v: &[$t], s: S) -> Result<S::Ok, S::Error> {
                    let mut b = Vec::with_capacity(v.len() * $n);
                    for x in v {
                        b.extend_from_slice(&x.to_le_bytes());
                    }
                    s.serialize_bytes(&b)
                }

                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Vec<$t>;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        write!(f, "a byte string of {}-byte values", $n)
                    }
                    fn visit_bytes<E: serde::de::Error>(self, b: &[u8]) -> Result<Self::Value, E> {
                        if b.len() % $n != 0 {
                            return Err(E::custom(format!(
                                "{} bytes is not a multiple of {}",
                                b.len(),
                                $n
                            )));
                        }
                        Ok(b.chunks_exact($n)
                            .map(|c| <$t>::from_le_bytes(c.try_into().unwrap_or([0; $n])))
                            .collect())
                    }
                    fn visit_byte_buf<E: serde::de::Error>(
                        self,
                        b: Vec<u8>,
                    ) -> Result<Self::Value, E> {
                        self.visit_bytes(&b)
                    }
                    fn visit_seq<A: SeqAccess<'de>>(
                        self,
                        mut seq: A,
                    ) -> Result<Self::Value, A::Error> {
                        let mut b = Vec::new();
                        while let Some(x) = seq.next_element::<u8>()? {
                            b.push(x);
                        }
                        self.visit_bytes::<A::Error>(&b)
                    }
                }

                /// Deserializes what [`serialize`] wrote (also from a sequence of bytes).
                pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<$t>, D::Error> {
                    d.deserialize_bytes(V)
                }
            }
        };
    }

    raw_vec!(f32s, f32, 4);
    raw_vec!(u32s, u32, 4);
    raw_vec!(u8s, u8, 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_truncation() {
        let s = ParamSnapshot {
            version: 3,
            tensors: vec![
                Tensor {
                    name: "a".into(),
                    shape: vec![2],
                    data: TensorData::F32(vec![1.5, -2.0]),
                },
                Tensor {
                    name: "b".into(),
                    shape: vec![1, 1],
                    data: TensorData::F64(vec![f64::MIN_POSITIVE]),
                },
            ],
        };
        let mut w = Writer::new();
        w.snapshot(&s).f64(0.1).bytes(b"xyz");
        let mut r = Reader::new(&w.bytes);
        assert_eq!(r.snapshot().unwrap(), s);
        assert_eq!(r.f64().unwrap(), 0.1);
        assert_eq!(r.bytes().unwrap(), b"xyz");
        assert!(r.is_empty());
        for cut in 0..w.bytes.len() {
            assert!(Reader::new(&w.bytes[..cut]).snapshot().is_err() || cut > 60);
        }
        let mut huge = Writer::new();
        huge.u64(u64::MAX);
        assert!(Reader::new(&huge.bytes).f64s().is_err());
    }
}
