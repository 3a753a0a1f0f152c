"""A query engine whose retrieved nodes are pruned before they reach the LLM.

Runs offline: LlamaIndex's MockEmbedding and MockLLM stand in for real models (MockLLM
echoes its prompt, so the tokens it received are the tokens it returns).

    python examples/query_engine.py
"""

from __future__ import annotations

from headroom import count_tokens
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import MockLLM

from llama_index.postprocessor.headroom import METADATA_KEY, HeadroomNodePostprocessor

PARAGRAPHS = [
    "The Normans were the people who in the 10th and 11th centuries gave their name to "
    "Normandy, a region in France. They were descended from Norse raiders and pirates from "
    "Denmark, Iceland and Norway who, under their leader Rollo, agreed to swear fealty to "
    "King Charles III of West Francia. Through generations of assimilation the Normans "
    "adopted the Frankish language and culture.",
    "Rollo signed the treaty of Saint-Clair-sur-Epte with King Charles III in 911. The "
    "treaty granted Rollo the lands between the river Epte and the sea. In return Rollo "
    "agreed to defend the estuary of the Seine against other Viking raiders. Rollo was "
    "baptised in 912 and took the name Robert.",
    "Norman architecture typically stands out as a new stage in the architectural history "
    "of the regions they subdued. They spread a unique Romanesque idiom to England and "
    "Italy. The castles they built were of motte-and-bailey design at first, and of stone "
    "later. Durham Cathedral is a well-known example.",
    "The Norman conquest of England began in 1066 when William, Duke of Normandy, defeated "
    "King Harold II at the Battle of Hastings. William was crowned at Westminster Abbey on "
    "Christmas Day. The Domesday Book recorded the land holdings of the kingdom in 1086.",
] * 2  # retrieval often returns near-duplicates; the postprocessor drops them


def main() -> None:
    """Ask the same question with and without the postprocessor and compare the prompts."""
    index = VectorStoreIndex.from_documents(
        [Document(text=p) for p in PARAGRAPHS], embed_model=MockEmbedding(embed_dim=8)
    )
    question = "Who did Rollo sign the treaty of Saint-Clair-sur-Epte with?"
    plain = index.as_query_engine(similarity_top_k=8, llm=MockLLM())
    pruned = index.as_query_engine(
        similarity_top_k=8,
        llm=MockLLM(),
        node_postprocessors=[HeadroomNodePostprocessor(target_ratio=0.3, store="memory")],
    )
    before = plain.query(question)
    after = pruned.query(question)
    print(
        f"prompt without headroom: {count_tokens(str(before))} tokens, "
        f"{len(before.source_nodes)} nodes"
    )
    print(
        f"prompt with headroom:    {count_tokens(str(after))} tokens, "
        f"{len(after.source_nodes)} nodes"
    )
    print("the answer sentence reaches the LLM:", "King Charles III in 911" in str(after))
    stats = after.source_nodes[0].node.metadata[METADATA_KEY]
    print(f"first node's headroom metadata: {stats}")


if __name__ == "__main__":
    main()
