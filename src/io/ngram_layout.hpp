// A classifier with n-grams (an n-gram model, or a network with an n-gram path) put in the
// vocabulary layout its file stores compactly (text/ngram_list.hpp): the rows of its n-gram table
// move with their entries, so it computes exactly what it did. Training builds its vocabulary in
// that layout; joining and converting put older models in it.
#pragma once
#include "io/model_file.hpp"

namespace attnlens {

// Does nothing for a model without n-grams or already in the layout. For a network with an
// n-gram path, the network's words keep their ids.
void put_in_ngram_layout(ClassifierBundle& bundle);

}  // namespace attnlens
